"""After an end-to-end run with card payments: no PAN, holder name or secret in clear in any item
of the bank's tables or in any line the app logged."""

from __future__ import annotations

import logging

import pytest

from demo.parties.processor import generate


class Lines(logging.Handler):
    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(formatter)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def every_log_line(cloud):
    logger = cloud.app_module.log
    lines = Lines(logger.handlers[0].formatter)
    level = logger.level
    logger.addHandler(lines)
    logger.setLevel(logging.DEBUG)
    yield lines.lines
    logger.removeHandler(lines)
    logger.setLevel(level)


def scan(cloud, table: str) -> list[dict]:
    pages = cloud.client("dynamodb").get_paginator("scan").paginate(TableName=table)
    return [item for page in pages for item in page["Items"]]


def test_no_card_data_or_secret_is_stored_or_logged_in_clear(cloud, api, every_log_line):
    stream = generate(60, seed=404, wallets=3, wallet_prefix="pci-")
    cards = {
        e["object_payload"]["card"]["pan"]: e["object_payload"]["card"]["holder"]
        for e in stream.deliveries
        if "card" in e["object_payload"]
    }
    assert len(cards) == 3  # one card per wallet, each seen in authorizations
    for envelope in stream.deliveries:
        assert api.send(envelope).status_code == 202
    api.post_notification(b'{"webhook": "card.authorization"}')  # an error path logs too
    cloud.wait_until_drained()

    items = scan(cloud, cloud.outputs["LedgerTableName"]) + scan(cloud, cloud.outputs["AuditTableName"])
    stored = [repr(item) for item in items]
    assert any("CARD#" in s for s in stored), "the cards were kept (encrypted)"
    secrets = [cloud.signing_secret, cloud.client_webhook_secret]
    forbidden = [*cards, *cards.values(), *secrets]
    assert every_log_line, "the run logged nothing: the check would be empty"
    for text in stored + every_log_line:
        for value in forbidden:
            assert value not in text, f"{value[:6]}... in clear: {text[:200]}"


def test_a_card_number_typed_into_the_merchant_name_reaches_no_table_event_or_webhook(cloud, api, fintech):
    import random
    import uuid

    from envelopes import authorization

    from demo.parties.processor import luhn_pan

    pan = luhn_pan(random.Random(2026), prefix="411111")
    envelope = authorization(f"pci-name-{uuid.uuid4().hex[:6]}", "a-name", 1_200)
    envelope["object_payload"]["merchant"]["name"] = f"Bistro {pan[:4]} {pan[4:8]} {pan[8:12]} {pan[12:]}"
    assert api.send(envelope).status_code == 202
    cloud.wait_until_drained()
    told = [w for w in fintech.log()["webhooks"] if w["object_id"] == envelope["object_id"]]
    assert told, "the client was told of the authorization"
    assert told[0]["payload"]["merchant"]["name"] == f"Bistro {pan[:6]}******{pan[-4:]}"
    everything = repr(
        scan(cloud, cloud.outputs["LedgerTableName"]) + scan(cloud, cloud.outputs["AuditTableName"])
    )
    everything += repr(fintech.log())
    assert pan not in everything.replace(" ", "")
