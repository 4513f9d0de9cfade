"""Structured logs: one JSON object per line, with a correlation id, and never a card number.

CloudWatch Logs Insights reads these lines as fields (``fields correlation_id, message | filter
level = "ERROR"``). The correlation id follows one notification through the handlers: the API
sets it to the notification id it accepted, the worker to the notification id of the record it
applies, the dispatcher and the audit writer to the event id. Nothing here logs a payload; as a
second line of defence, any run of 12 to 19 digits is masked before a line is written.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from contextvars import ContextVar

correlation_id: ContextVar[str] = ContextVar("correlation_id", default="-")
_DIGITS = re.compile(r"(?<!\d)(\d{6})\d{2,9}(\d{4})(?!\d)")  # 12-19 digits: a PAN, perhaps


def redact(text: str) -> str:
    """Mask anything shaped like a card number (first six and last four kept)."""
    return _DIGITS.sub(lambda m: m.group(1) + "*" * (len(m.group(0)) - 10) + m.group(2), text)


def correlate(value: str) -> None:
    """Tag the lines logged from now on in this context (a request, a record)."""
    correlation_id.set(value)


# --8<-- [start:json_formatter]
class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "function": os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "local"),
            "correlation_id": correlation_id.get(),
            "message": redact(record.getMessage()),
        }
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)
        # --8<-- [end:json_formatter]


def configure(logger: logging.Logger, level: str | None = None) -> logging.Logger:
    """Give ``logger`` (the app's) one JSON handler on stdout, which Lambda sends to CloudWatch."""
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(level or os.environ.get("LOG_LEVEL", "WARNING"))
    logger.propagate = False
    return logger
