"""The card vault on AWS: KMS encrypts each card, one item per authorization in the ledger table.

To seal a card, the vault asks KMS to encrypt the PAN and the holder name (``Encrypt``, under the
bank's key; a card is some 60 bytes, KMS takes up to 4 KB) with the encryption context
``{"wallet_id": ..., "authorization_id": ..., "purpose": "card"}``, and keeps the ciphertext. The
card is never encrypted in the function: no key material, no crypto library in the package (ADR
0011). The ledger writes the sealed card in the transaction that applies its authorization.
Reading it back needs kms:Decrypt on the key with the same context, which no function of the
bank is granted: a sealed card copied to another wallet's or authorization's item cannot be
opened, by anyone.

Item: ``pk = WALLET#<wallet_id>``, ``sk = CARD#<authorization_id>``, ``masked_pan`` in clear,
``sealed`` = {v: 2, data: KMS's ciphertext} (binary).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from demo.bank.cards import SealedCard, mask_pan
from demo.bank.notifications import Card

if TYPE_CHECKING:  # the stubs are a dev dependency: not in the Lambda package
    from types_boto3_dynamodb.client import DynamoDBClient
    from types_boto3_kms.client import KMSClient


VERSION = "2"  # 1 was a KMS data key with AES-GCM in the function (before ADR 0011)


def _context(wallet_id: str, authorization_id: str) -> dict[str, str]:
    return {"wallet_id": wallet_id, "authorization_id": authorization_id, "purpose": "card"}


# --8<-- [start:card_item]
def card_item(card: SealedCard) -> dict[str, Any]:
    """The DynamoDB item of a sealed card (the ledger writes it with the authorization's commit)."""
    return {
        "pk": {"S": f"WALLET#{card.wallet_id}"},
        "sk": {"S": f"CARD#{card.authorization_id}"},
        "masked_pan": {"S": card.masked_pan},
        "sealed": {"M": {"v": {"N": VERSION}, "data": {"B": card.ciphertext}}},
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
        sealed = self._kms.encrypt(
            KeyId=self._key_id,
            Plaintext=json.dumps({"pan": card.pan, "holder": card.holder}).encode(),
            EncryptionContext=_context(wallet_id, authorization_id),
        )
        return SealedCard(wallet_id, authorization_id, mask_pan(card.pan), sealed["CiphertextBlob"])
        # --8<-- [end:seal]

    def keep(self, card: SealedCard) -> None:
        self._dynamodb.put_item(TableName=self._table, Item=card_item(card))

    def reveal(self, wallet_id: str, authorization_id: str) -> Card | None:
        item = self._dynamodb.get_item(
            TableName=self._table,
            Key={"pk": {"S": f"WALLET#{wallet_id}"}, "sk": {"S": f"CARD#{authorization_id}"}},
            ConsistentRead=True,
        ).get("Item")
        if item is None:
            return None
        sealed = item["sealed"]["M"]
        if sealed["v"].get("N") != VERSION:
            raise ValueError(
                f"the card of {authorization_id} was sealed by vault version {sealed['v'].get('N')}"
            )
        opened = self._kms.decrypt(
            CiphertextBlob=sealed["data"]["B"],
            KeyId=self._key_id,
            EncryptionContext=_context(wallet_id, authorization_id),
        )
        card = json.loads(opened["Plaintext"])
        return Card(pan=card["pan"], holder=card["holder"])
