"""Compliance review of large payments (step 3): which payments need one, what a review and a
decision are (the use cases around the workflow are in ``demo.bank.service``).

The workflow itself is a Step Functions state machine with no Lambda in it
(``demo/serverless/statemachines/large-payment-review.asl.json``): it records the pending review,
announces it with a task token, waits for the decision, then approves, or rejects and freezes the
wallet, or escalates when nobody decided in time. It owns the review's state. The code here only
starts it (once per payment), files the token it waits with, and resumes it with a decision.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from demo.bank.errors import (
    FieldError,
    InvalidDecision,
    InvalidReviewQuery,
)
from demo.bank.notifications import CARD_SETTLEMENT, PAYIN_RECEIVED, Notification, check_size, load_json
from demo.bank.pan import mask_card_numbers

LARGE_PAYMENT_FLAGGED = "LargePaymentFlagged"  # the ledger's event that starts a review
REVIEW_REQUESTED = "ReviewRequested"  # the workflow's event that carries its task token
REVIEWED_KINDS = (PAYIN_RECEIVED, CARD_SETTLEMENT)  # money in, money out
DEFAULT_THRESHOLD = 1_000_000  # cents: 10,000.00 EUR
MAX_REASON = 500

_NAMESPACE = uuid.UUID("0c7f4f0e-7d1b-4b55-8f43-52a1f3f6d2a7")  # this bank's review ids
_REVIEW_ID = re.compile(r"rv-[0-9a-f]{32}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # tabs and newlines are fine in a reason


class Status(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    ESCALATED = "escalated"


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


def review_id(notification_id: str) -> str:
    """The review of a notification: the same id (and Step Functions execution name) on every
    delivery, so that a redelivered payment cannot start a second review."""
    return f"rv-{uuid.uuid5(_NAMESPACE, notification_id).hex}"


def needs_review(notification: Notification, threshold: int) -> bool:
    """Whether a payment is large enough to need a compliance decision."""
    n = notification
    return n.webhook in REVIEWED_KINDS and n.amount is not None and n.amount >= threshold


@dataclass(frozen=True)
class ReviewRequest:
    """What the workflow is started with (its execution input, with the decision timeout)."""

    review_id: str
    notification_id: str
    wallet_id: str
    kind: str
    amount: int
    currency: str

    @classmethod
    def for_notification(cls, notification: Notification, currency: str) -> ReviewRequest:
        n = notification
        if n.amount is None:
            raise ValueError(f"{n.webhook} has no amount to review")
        return cls(
            review_id(n.notification_id), n.notification_id, n.wallet_id, n.webhook, n.amount, currency
        )

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReviewRequest:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Review:
    """A review as the workflow recorded it. The task token never leaves the bank's side."""

    review_id: str
    notification_id: str
    wallet_id: str
    kind: str
    amount: int
    currency: str
    status: Status
    requested_at: str
    decision: str | None = None
    reason: str | None = None
    decided_at: str | None = None
    decided_by: str | None = None  # who decided: the caller's IAM principal (the workflow records it)
    task_token: str | None = field(default=None, repr=False)
    # The decision accepted for the workflow, before the workflow records it: the first one wins.
    claimed: str | None = field(default=None, repr=False)
    claimed_by: str | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        hidden = ("task_token", "claimed", "claimed_by")
        data = {name: getattr(self, name) for name in self.__dataclass_fields__ if name not in hidden}
        data["status"] = str(self.status)
        data["awaiting_decision"] = self.status is Status.PENDING and self.task_token is not None
        return data


@dataclass(frozen=True)
class DecisionRequest:
    decision: Decision
    reason: str
    decided_by: str = ""  # set from the request's caller, never from its body

    def to_dict(self) -> dict[str, str]:
        return {"decision": str(self.decision), "reason": self.reason, "decided_by": self.decided_by}


def parse_decision(body: bytes) -> DecisionRequest:
    """``{"decision": "approve"|"reject", "reason": "..."}``; a rejection must say why."""
    check_size(body)
    data = load_json(body)
    if not isinstance(data, dict):
        raise InvalidDecision([FieldError("(body)", "must be a JSON object")])
    errors = []
    decision: Any = data.get("decision")  # JSON from the wire: checked below, a str once it passes
    if not isinstance(decision, str) or decision not in set(Decision):  # a list is unhashable
        errors.append(FieldError("decision", "must be 'approve' or 'reject'"))
    reason = data.get("reason", "")
    if not isinstance(reason, str):
        errors.append(FieldError("reason", "must be a string"))
    elif len(reason) > MAX_REASON:
        errors.append(FieldError("reason", f"must be at most {MAX_REASON} characters"))
    elif _CONTROL.search(reason):
        errors.append(FieldError("reason", "must not contain control characters"))
    elif decision == Decision.REJECT and not reason.strip():
        errors.append(FieldError("reason", "is required to reject"))
    unknown = sorted(set(data) - {"decision", "reason"})
    errors.extend(FieldError(name, "is not a decision field") for name in unknown)
    if errors:
        raise InvalidDecision(errors)
    return DecisionRequest(Decision(decision), mask_card_numbers(reason.strip()))


def parse_status(value: str | None) -> Status | None:
    """The ``?status=`` filter of the review list: a status, or ``all`` (None: no filter)."""
    if value is None or value == "all":
        return None
    try:
        return Status(value)
    except ValueError:
        allowed = ", ".join([*Status, "all"])
        raise InvalidReviewQuery(f"status must be one of: {allowed}") from None


def is_review_id(text: str) -> bool:
    """Whether ``text`` has the form of a review id (``rv-`` and 32 hex digits)."""
    return _REVIEW_ID.fullmatch(text) is not None
