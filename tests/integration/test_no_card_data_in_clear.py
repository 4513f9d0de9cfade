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
