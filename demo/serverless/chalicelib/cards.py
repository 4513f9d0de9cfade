"""The card vault on AWS: KMS envelope encryption, one item per authorization in the ledger table.

To keep a card, the worker asks KMS for a fresh data key (GenerateDataKey, AES-256) under the
bank's key, with the encryption context ``{"wallet_id": ..., "purpose": "card"}``; encrypts the
PAN and the holder name locally with AES-GCM (the wallet and authorization ids as associated
data); and stores the ciphertext, the nonce and the *encrypted* data key. The plaintext data key
is dropped at once. Reading the card back needs kms:Decrypt on the key with the same context: a
sealed card copied to another wallet's item cannot be opened, by anyone.

Item: ``pk = WALLET#<wallet_id>``, ``sk = CARD#<authorization_id>``, ``masked_pan`` in clear,
``sealed`` = {v, key, nonce, data} (binary attributes).
"""

from __future__ import annotations

import json
import os
from typing import Any

from demo.bank.cards import mask_pan
from demo.bank.notifications import Card


def _context(wallet_id: str) -> dict[str, str]:
    return {"wallet_id": wallet_id, "purpose": "card"}


def _aad(wallet_id: str, authorization_id: str) -> bytes:
    return f"{wallet_id}/{authorization_id}".encode()


class KmsCardVault:
    """A :class:`demo.bank.cards.CardVault` (low-level boto3 KMS and DynamoDB clients)."""

    def __init__(self, kms: Any, dynamodb: Any, table: str, key_id: str) -> None:
        self._kms = kms
        self._dynamodb = dynamodb
        self._table = table
        self._key_id = key_id

    # --8<-- [start:keep]
    def keep(self, wallet_id: str, authorization_id: str, card: Card) -> None:
        # cryptography (a native wheel, vendored into the package) only when a card comes in:
        # importing it costs every cold start nothing
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        data_key = self._kms.generate_data_key(
            KeyId=self._key_id, KeySpec="AES_256", EncryptionContext=_context(wallet_id)
        )
        nonce = os.urandom(12)
        plaintext = json.dumps({"pan": card.pan, "holder": card.holder}).encode()
        sealed = AESGCM(data_key["Plaintext"]).encrypt(nonce, plaintext, _aad(wallet_id, authorization_id))
        self._dynamodb.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": f"WALLET#{wallet_id}"},
                "sk": {"S": f"CARD#{authorization_id}"},
                "masked_pan": {"S": mask_pan(card.pan)},
                "sealed": {
                    "M": {
                        "v": {"N": "1"},
                        "key": {"B": data_key["CiphertextBlob"]},
                        "nonce": {"B": nonce},
                        "data": {"B": sealed},
                    }
                },
            },
        )
        # --8<-- [end:keep]

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
