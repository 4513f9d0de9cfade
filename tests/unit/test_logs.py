"""Structured logs: JSON lines with a correlation id, and card numbers masked even by mistake."""

from __future__ import annotations

import json
import logging

from demo.localcloud.session import chalicelib_module

logs = chalicelib_module("logs")


def test_a_line_is_json_with_its_correlation_id_and_no_card_number():
    record = logging.LogRecord(
        "bank", logging.WARNING, __file__, 1, "card %s refused", ("5488210000003691",), None
    )
    logs.correlate("n-42")
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["correlation_id"] == "n-42" and line["level"] == "WARNING" and line["logger"] == "bank"
    assert line["message"] == "card 548821******3691 refused"


def test_redaction_keeps_short_numbers_and_ids():
    assert logs.redact("amount 125000 for w-1, at 1764412800") == "amount 125000 for w-1, at 1764412800"
    assert logs.redact("pan=4111111111111111;") == "pan=411111******1111;"


def test_a_traceback_is_redacted_too():
    try:
        raise ValueError("bad card 4111111111111111")
    except ValueError:
        record = logging.LogRecord(
            "bank", logging.ERROR, __file__, 1, "failed", (), __import__("sys").exc_info()
        )
    line = json.loads(logs.JsonFormatter().format(record))
    assert "4111111111111111" not in line["exception"] and "411111******1111" in line["exception"]
