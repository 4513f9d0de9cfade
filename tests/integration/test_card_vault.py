"""Card data at rest: PAN and holder only encrypted (by KMS, bound to the wallet and the
authorization), the masked PAN in clear, and the same card read back through the app."""

from __future__ import annotations

import pytest
from envelopes import CARD, authorization

from demo.bank.cards import mask_pan


@pytest.fixture
def vault(cloud):
    return cloud.app_module.container().cards


def raw_item(cloud, wallet, auth):
    return cloud.client("dynamodb").get_item(
        TableName=cloud.outputs["LedgerTableName"],
        Key={"pk": {"S": f"WALLET#{wallet}"}, "sk": {"S": f"CARD#{auth}"}},
    )["Item"]


def test_the_card_is_stored_encrypted_and_read_back_through_the_app(cloud, api, wallet, vault):
    assert api.send(authorization(wallet, "a-1", 1_250)).status_code == 202
    cloud.wait_until_drained()

    item = raw_item(cloud, wallet, "a-1")
    assert item["masked_pan"] == {"S": mask_pan(CARD["pan"])} == {"S": "548821******3691"}
    stored = repr(item).encode()
    assert CARD["pan"].encode() not in stored and CARD["holder"].encode() not in stored
    assert set(item["sealed"]["M"]) == {"v", "data"} and item["sealed"]["M"]["v"] == {"N": "2"}

    card = vault.reveal(wallet, "a-1")
    assert (card.pan, card.holder) == (CARD["pan"], CARD["holder"])


def test_a_sealed_card_moved_to_another_wallet_cannot_be_opened(cloud, api, wallet, vault):
    assert api.send(authorization(wallet, "a-2", 500)).status_code == 202
    cloud.wait_until_drained()
    item = raw_item(cloud, wallet, "a-2")
    thief = f"{wallet}-x"
    dynamodb = cloud.client("dynamodb")
    dynamodb.put_item(
        TableName=cloud.outputs["LedgerTableName"],
        Item={**item, "pk": {"S": f"WALLET#{thief}"}},
    )
    with pytest.raises(Exception) as refused:  # KMS refuses to decrypt: another encryption context
        vault.reveal(thief, "a-2")
    assert "InvalidCiphertext" in type(refused.value).__name__
