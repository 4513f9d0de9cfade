"""The card vault on AWS: KMS envelope encryption, one item per authorization in the ledger table.

To seal a card, the vault asks KMS for a fresh data key (GenerateDataKey, AES-256) under the
bank's key, with the encryption context ``{"wallet_id": ..., "purpose": "card"}``; encrypts the
PAN and the holder name locally with AES-GCM (the wallet and authorization ids as associated
data); and keeps the ciphertext, the nonce and the *encrypted* data key. The plaintext data key
is dropped at once. The ledger writes the sealed card in the transaction that applies its
authorization. Reading the card back needs kms:Decrypt on the key with the same context: a
sealed card copied to another wallet's item cannot be opened, by anyone.

Item: ``pk = WALLET#<wallet_id>``, ``sk = CARD#<authorization_id>``, ``masked_pan`` in clear,
``sealed`` = {v, key, nonce, data} (binary attributes).
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from demo.bank.cards import SealedCard, mask_pan
from demo.bank.notifications import Card

if TYPE_CHECKING:  # the stubs are a dev dependency: not in the Lambda package
    from types_boto3_dynamodb.client import DynamoDBClient
    from types_boto3_kms.client import KMSClient


def _context(wallet_id: str) -> dict[str, str]:
    return {"wallet_id": wallet_id, "purpose": "card"}


def _aad(wallet_id: str, authorization_id: str) -> bytes:
    return f"{wallet_id}/{authorization_id}".encode()


# --8<-- [start:card_item]
def card_item(card: SealedCard) -> dict[str, Any]:
    """The DynamoDB item of a sealed card (the ledger writes it with the authorization's commit)."""
    return {
        "pk": {"S": f"WALLET#{card.wallet_id}"},
        "sk": {"S": f"CARD#{card.authorization_id}"},
        "masked_pan": {"S": card.masked_pan},
        "sealed": {
            "M": {
                "v": {"N": "1"},
                "key": {"B": card.key},
                "nonce": {"B": card.nonce},
                "data": {"B": card.data},
            }
        },
    }
    # --8<-- [end:card_item]


class KmsCardVault:
    """A :class:`demo.bank.cards.CardVault` (low-level boto3 KMS and DynamoDB clients)."""

    def __init__(self, kms: KMSClient, dynamodb: DynamoDBClient, table: str, key_id: str) -> None:
        self._kms = kms
        self._dynamodb = dynamodb
        self._table = table
        self._key_id = key_id

    # --8<-- [start:seal]
    def seal(self, wallet_id: str, authorization_id: str, card: Card) -> SealedCard:
        # cryptography (a native wheel, vendored into the package) only when a card comes in:
        # importing it costs every cold start nothing
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        data_key = self._kms.generate_data_key(
            KeyId=self._key_id, KeySpec="AES_256", EncryptionContext=_context(wallet_id)
        )
        nonce = os.urandom(12)
        plaintext = json.dumps({"pan": card.pan, "holder": card.holder}).encode()
        sealed = AESGCM(data_key["Plaintext"]).encrypt(nonce, plaintext, _aad(wallet_id, authorization_id))
        return SealedCard(
            wallet_id, authorization_id, mask_pan(card.pan), data_key["CiphertextBlob"], nonce, sealed
        )
        # --8<-- [end:seal]

    def keep(self, card: SealedCard) -> None:
        self._dynamodb.put_item(TableName=self._table, Item=card_item(card))

    def reveal(self, wallet_id: str, authorization_id: str) -> Card | None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        item = self._dynamodb.get_item(
            TableName=self._table,
            Key={"pk": {"S": f"WALLET#{wallet_id}"}, "sk": {"S": f"CARD#{authorization_id}"}},
            ConsistentRead=True,
        ).get("Item")
        if item is None:
            return None
        sealed = {k: v.get("B") for k, v in item["sealed"]["M"].items()}
        data_key = self._kms.decrypt(CiphertextBlob=sealed["key"], EncryptionContext=_context(wallet_id))
        plaintext = AESGCM(data_key["Plaintext"]).decrypt(
            sealed["nonce"], sealed["data"], _aad(wallet_id, authorization_id)
        )
        card = json.loads(plaintext)
        return Card(pan=card["pan"], holder=card["holder"])
