"""The embedded local cloud: an offline AWS (moto) with the bank's stack and Chalice app running on it.

with LocalCloud() as cloud:
    cloud.api_url        # the Chalice routes over real HTTP
    cloud.aws_endpoint   # boto3's endpoint_url (AWS_ENDPOINT_URL)
    cloud.wait_until_drained()
"""

from demo.localcloud.cloud import LocalCloud, PortInUse, local_session

__all__ = ["LocalCloud", "PortInUse", "local_session"]
