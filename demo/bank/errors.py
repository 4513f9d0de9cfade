"""Errors the domain raises at its entry points.

Each error carries a stable machine-readable ``code`` and the HTTP status that every entry
point (the Flask monolith, the Chalice API) answers with, so both speak the same contract.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One failing field of a rejected notification, named by its dotted path."""

    field: str
    message: str


class BankError(Exception):
    """Base class of the errors a client can cause. ``status`` is the HTTP answer."""

    code: str = "bad_request"
    status: int = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, object]:
        """The JSON error body: ``{"error": {"code": ..., "message": ...}}``."""
        return {"error": {"code": self.code, "message": self.message}}


class MalformedJSON(BankError):
    code = "invalid_json"
    status = 400


class PayloadTooLarge(BankError):
    code = "payload_too_large"
    status = 413


class SignatureRejected(BankError):
    code = "invalid_signature"
    status = 401


class SignatureMismatch(SignatureRejected):
    """A well-formed, fresh signature that no known secret made (a rotation may be under way)."""


class InvalidNotification(BankError):
    """The body is JSON but not a valid notification; ``errors`` lists every failing field."""

    code = "validation_error"
    status = 422

    what = "notification"

    def __init__(self, errors: list[FieldError]) -> None:
        fields = ", ".join(e.field for e in errors)
        super().__init__(f"invalid {self.what}: {fields}")
        self.errors = errors

    def to_dict(self) -> dict[str, object]:
        body = super().to_dict()
        fields = [{"field": e.field, "message": e.message} for e in self.errors]
        body["error"]["fields"] = fields  # type: ignore[index]  # the base's "error" is a dict, typed object
        return body


class ReplayRefused(BankError):
    """A notification id seen before, with another body: a forged or tampered replay."""

    code = "replay_refused"
    status = 409


class InvalidWalletId(BankError):
    code = "invalid_wallet_id"
    status = 422


class WalletNotFound(BankError):
    code = "wallet_not_found"
    status = 404


class InvalidDecision(InvalidNotification):
    """A review decision that is JSON but not a valid decision (same shape as a notification's)."""

    what = "decision"


class InvalidReviewQuery(BankError):
    code = "invalid_status"
    status = 422


class ReviewNotFound(BankError):
    code = "review_not_found"
    status = 404


class ReviewClosed(BankError):
    """The review was decided already, or escalated: its workflow no longer waits for a decision."""

    code = "review_closed"
    status = 409


class DecisionConflict(BankError):
    """Another decision on the review was accepted first: exactly one decision wins; it is named."""

    code = "decision_conflict"
    status = 409


class ReviewNotReady(BankError):
    """The workflow has not yet handed out the token a decision resumes it with: try again shortly."""

    code = "review_not_ready"
    status = 409


class ServiceUnavailable(BankError):
    """A service the bank depends on is down: nothing was done, the caller may retry later."""

    code = "service_unavailable"
    status = 503
