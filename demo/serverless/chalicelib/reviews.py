"""The review desk's adapters (step 3): reviews as the workflow records them in the ledger table,
and the Step Functions workflow that a large payment starts and a decision resumes.

Review items live in one partition (``pk = REVIEW``, ``sk = <review_id>``): large payments are
rare, so one Query lists them all. (Many reviews would call for a sparse index on the status.)
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from demo.bank.errors import ReviewClosed
from demo.bank.reviews import DecisionRequest, Review, ReviewRequest, Status

if TYPE_CHECKING:  # the stubs are a dev dependency: not in the Lambda package
    from types_boto3_dynamodb.client import DynamoDBClient
    from types_boto3_stepfunctions.client import SFNClient

PARTITION = "REVIEW"


def _review(item: dict[str, Any]) -> Review:
    def text(name: str) -> str | None:
        value = item.get(name)
        return value["S"] if value else None

    return Review(
        review_id=item["review_id"]["S"],
        notification_id=item["notification_id"]["S"],
        wallet_id=item["wallet_id"]["S"],
        kind=item["kind"]["S"],
        amount=int(item["amount"]["N"]),
        currency=item["currency"]["S"],
        status=Status(item["status"]["S"]),
        requested_at=item["requested_at"]["S"],
        decision=text("decision"),
        reason=text("reason"),
        decided_at=text("decided_at"),
        decided_by=text("decided_by"),
        task_token=text("task_token"),
        claimed=text("claimed"),
        claimed_by=text("claimed_by"),
    )


class DynamoDBReviews:
    """A :class:`demo.bank.ports.ReviewStore` on the ledger table (a low-level boto3 client)."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def review(self, review_id: str) -> Review | None:
        item = self._client.get_item(
            TableName=self._table,
            Key={"pk": {"S": PARTITION}, "sk": {"S": review_id}},
            ConsistentRead=True,
        ).get("Item")
        return None if item is None else _review(item)

    def reviews(self, status: Status | None = None) -> list[Review]:
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :reviews",
            "ExpressionAttributeValues": {":reviews": {"S": PARTITION}},
        }
        if status is not None:
            query["FilterExpression"] = "#status = :status"
            query["ExpressionAttributeNames"] = {"#status": "status"}
            query["ExpressionAttributeValues"][":status"] = {"S": str(status)}
        found: list[Review] = []
        for page in self._client.get_paginator("query").paginate(**query):
            found.extend(_review(item) for item in page["Items"])
        return sorted(found, key=lambda r: (r.requested_at, r.review_id))

    def file_token(self, review_id: str, task_token: str) -> None:
        # Decided or escalated already: the token is of no use any more.
        with contextlib.suppress(self._client.exceptions.ConditionalCheckFailedException):
            self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": PARTITION}, "sk": {"S": review_id}},
                UpdateExpression="SET task_token = :token",
                ConditionExpression="#status = :pending",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":token": {"S": task_token}, ":pending": {"S": "pending"}},
            )

    def claim(self, review_id: str, decision: DecisionRequest) -> tuple[bool, Review]:
        # One conditional write: of decisions sent at the same instant, exactly one is accepted.
        key = {"pk": {"S": PARTITION}, "sk": {"S": review_id}}
        try:
            claimed = self._client.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression="SET claimed = :decision, claimed_by = :by, claimed_at = :now",
                ConditionExpression=(
                    "#status = :pending AND attribute_exists(task_token) AND attribute_not_exists(claimed)"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":decision": {"S": str(decision.decision)},
                    ":by": {"S": decision.decided_by},
                    ":now": {"S": datetime.now(UTC).isoformat()},
                    ":pending": {"S": "pending"},
                },
                ReturnValues="ALL_NEW",  # the claimed review, its token with it: no second read
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            standing = self.review(review_id)
            if standing is None:
                raise ReviewClosed(f"review {review_id} is gone") from None
            return False, standing
        return True, _review(claimed["Attributes"])


class StepFunctionsReviews:
    """A :class:`demo.bank.ports.ReviewWorkflow`: one execution per review, named by its id."""

    def __init__(self, client: SFNClient, state_machine_arn: str, decision_timeout_seconds: int) -> None:
        self._client = client
        self._arn = state_machine_arn
        self._timeout = decision_timeout_seconds

    def start(self, request: ReviewRequest) -> bool:
        try:
            self._client.start_execution(
                stateMachineArn=self._arn,
                name=request.review_id,
                input=json.dumps(
                    {
                        **request.to_dict(),
                        "requested_at": datetime.now(UTC).isoformat(),
                        "decision_timeout_seconds": self._timeout,
                    }
                ),
            )
        except self._client.exceptions.ExecutionAlreadyExists:
            return False
        return True

    def resume(self, task_token: str, decision: DecisionRequest) -> None:
        errors = self._client.exceptions
        try:
            self._client.send_task_success(taskToken=task_token, output=json.dumps(decision.to_dict()))
        except (errors.TaskTimedOut, errors.TaskDoesNotExist, errors.InvalidToken) as error:
            raise ReviewClosed(f"the review no longer waits for a decision ({error})") from None
