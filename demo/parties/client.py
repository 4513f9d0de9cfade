"""The processor's side of the wire: send signed notifications to a bank API and read balances.

Used by the CLI, the tests and the notebooks alike, against the serverless API (local or on
AWS) and, from step 0, against the monolith: both speak the same contract.
"""

from __future__ import annotations

import getpass
import json
import re
import time
from collections.abc import Generator
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    import httpx

from demo import settings
from demo.bank.signature import SIGNATURE_HEADER, sign

# The API on AWS: https://<id>.execute-api.<region>.amazonaws.com/<stage>/...
EXECUTE_API_HOST = re.compile(r"[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?")
# The routes API Gateway guards with IAM (Chalice's IAMAuthorizer in demo/serverless/app.py).
IAM_ROUTE = re.compile(r"/(?:reviews(?:/[^/]+(?:/decision)?)?|wallets/[^/]+/balance)$")
# Locally, a decision is signed too, by the local user: the local gateway reads who decided from the
# signature's credential, as API Gateway's IAM authorizer gives the caller's ARN (demo/localcloud/gateway.py).
DECISION_ROUTE = re.compile(r"/reviews/[^/]+/decision$")


class NoAwsCredentials(RuntimeError):
    """A route of the API on AWS takes SigV4-signed requests, and no AWS credentials were found."""


def local_user() -> str:
    """Who the command line runs as, locally: the operating system's user, as an access key id."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no such user in the password database (a container)
        user = "local"
    return re.sub(r"[^A-Za-z0-9_.@-]", "-", user) or "local"


def _aws_signer(region: str, local: bool = False) -> Any:
    """An ``httpx.Auth`` that signs the IAM-guarded routes with SigV4, as an AWS principal.

    The processor's ``POST /notifications`` and ``/health`` stay unsigned: API Gateway checks
    nothing there (the app checks the processor's HMAC signature). ``local``: only the decisions
    are signed, by the local user (no AWS credentials needed).
    """
    import httpx

    class SigV4(httpx.Auth):
        requires_request_body = True

        def __init__(self) -> None:
            self._credentials: Any = None

        def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
            if (DECISION_ROUTE if local else IAM_ROUTE).search(request.url.path):
                from botocore.auth import SigV4Auth  # botocore only once a request is to be signed
                from botocore.awsrequest import AWSRequest
                from botocore.session import Session

                if self._credentials is None and local:
                    from botocore.credentials import Credentials

                    self._credentials = Credentials(local_user(), "local")
                if self._credentials is None:
                    found = Session().get_credentials()
                    if found is None:
                        raise NoAwsCredentials(
                            f"{request.url.path} on AWS takes requests signed by an IAM principal "
                            "(SigV4), and no AWS credentials were found: `aws configure`, "
                            "AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                        )
                    self._credentials = found
                signed = AWSRequest(
                    method=request.method,
                    url=str(request.url),
                    data=request.content,
                    headers={"host": request.url.netloc.decode()},
                )
                SigV4Auth(self._credentials.get_frozen_credentials(), "execute-api", region).add_auth(signed)
                for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
                    if name in signed.headers:
                        request.headers[name] = signed.headers[name]
            yield request

    return SigV4()


def encode(envelope: dict[str, Any]) -> bytes:
    """The exact bytes that are signed and sent."""
    return json.dumps(envelope, separators=(",", ":")).encode()


class BankApi:
    """A small HTTP client of the bank's API. ``secret`` signs the notifications it sends.

    Against the API on AWS (an ``execute-api`` URL), the review and balance routes are signed with
    SigV4 by the caller's AWS credentials, as API Gateway's IAM authorizer requires.
    """

    def __init__(
        self,
        base_url: str,
        secret: str | None = None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        import httpx  # 0.4 s: on first use, so that `bankdemo --help` stays quick

        on_aws = EXECUTE_API_HOST.fullmatch(httpx.URL(self.base_url).host)
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            auth=_aws_signer(on_aws.group(1)) if on_aws else _aws_signer(settings.REGION, local=True),
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --8<-- [start:post_notification]
    def post_notification(
        self,
        body: bytes,
        *,
        signature: str | None = None,
        unsigned: bool = False,
        content_type: str = "application/json",
    ) -> httpx.Response:
        """POST raw bytes, signed with ``secret`` now unless a ``signature`` is given or ``unsigned``."""
        if signature is None and self.secret is not None and not unsigned:
            signature = sign(self.secret, body, int(time.time()))
        headers = {"Content-Type": content_type}
        if signature is not None:
            headers[SIGNATURE_HEADER] = signature
        return self._http.post("/notifications", content=body, headers=headers)
        # --8<-- [end:post_notification]

    def send(self, envelope: dict[str, Any]) -> httpx.Response:
        """Sign and POST one notification envelope."""
        return self.post_notification(encode(envelope))

    def balance(self, wallet_id: str) -> dict[str, Any] | None:
        """The wallet's balance, or None if the bank does not know the wallet."""
        response = self._http.get(f"/wallets/{wallet_id}/balance")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        found: dict[str, Any] = response.json()
        return found

    def reviews(self, status: str = "all") -> list[dict[str, Any]]:
        """Large-payment reviews (step 3), oldest first: ``pending``, ``approved``, ... or ``all``."""
        response = self._http.get("/reviews", params={"status": status})
        response.raise_for_status()
        reviews: list[dict[str, Any]] = response.json()["reviews"]
        return reviews

    def review(self, review_id: str) -> dict[str, Any] | None:
        response = self._http.get(f"/reviews/{review_id}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        found: dict[str, Any] = response.json()
        return found

    def decide(self, review_id: str, decision: str, reason: str = "") -> httpx.Response:
        """POST a compliance decision (``approve`` or ``reject``); the caller reads the status."""
        return self._http.post(
            f"/reviews/{review_id}/decision", json={"decision": decision, "reason": reason}
        )

    def health(self) -> dict[str, Any]:
        response = self._http.get("/health")
        response.raise_for_status()
        found: dict[str, Any] = response.json()
        return found


def format_cents(cents: int) -> str:
    """``123456`` -> ``'1,234.56'``: money is shown in euros, computed in cents."""
    sign_ = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    return f"{sign_}{euros:,}.{rest:02d}"
