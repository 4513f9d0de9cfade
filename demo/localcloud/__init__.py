"""The embedded local cloud: an offline AWS (moto) with the bank's stack and Chalice app running on it.

    with LocalCloud() as cloud:
        cloud.api_url        # the Chalice routes over real HTTP
        cloud.aws_endpoint   # boto3's endpoint_url (AWS_ENDPOINT_URL)
        cloud.wait_until_drained()

``LocalCloud`` is imported on first use: importing moto takes seconds, and commands that only
talk to a running cloud (``bankdemo send``, ``status``) do not need it.
"""

from typing import Any

from demo.localcloud.session import REGION, local_session

__all__ = ["REGION", "LocalCloud", "PortInUse", "local_session"]


def __getattr__(name: str) -> Any:
    if name in ("LocalCloud", "PortInUse"):
        from demo.localcloud import cloud

        return getattr(cloud, name)
    raise AttributeError(name)
