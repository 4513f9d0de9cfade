"""The set-up every notebook starts with, and the clean-up it ends with.

    from demo.workshop import lab

    setup = lab.serverless()  # steps 1-5: the fintech client, the local cloud, the processor's API client
    client, cloud, api = setup.client, setup.cloud, setup.api
    ...
    setup.stop()

``lab.monolith()`` does the same for step 0. Every part listens on a free port (port 0), so a
notebook never collides with a ``bankdemo up`` running beside it; the set-up prints where each
part answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from demo.parties.client import BankApi
from demo.parties.fintech import FintechClient

if TYPE_CHECKING:
    from demo.localcloud.cloud import LocalCloud
    from demo.monolith.app import Monolith


@dataclass
class Lab:
    """A notebook's running system: the fintech client, one bank (``cloud`` or ``monolith``), and the
    processor's ``api`` to it, signing with the bank's secret."""

    client: FintechClient
    api: BankApi
    cloud: LocalCloud | None = None
    monolith: Monolith | None = None

    def stop(self) -> None:
        """Close the API client, stop the bank, then the fintech client."""
        self.api.close()
        bank: Any = self.cloud if self.cloud is not None else self.monolith
        if bank is not None:
            bank.stop()
        self.client.stop()


def serverless() -> Lab:
    """The fintech client, then the local cloud with the bank's stack and Chalice app on it."""
    from demo.localcloud import LocalCloud

    client = FintechClient(port=0, control_port=0).start()
    try:
        cloud = LocalCloud(aws_port=0, api_port=0, client_url=client.webhook_url).start()
    except BaseException:
        client.stop()
        raise
    _show(
        ("bank API", cloud.api_url),
        ("AWS endpoint", cloud.aws_endpoint),
        ("client webhooks", client.webhook_url),
    )
    return Lab(client, BankApi(cloud.api_url, cloud.signing_secret), cloud=cloud)


def monolith() -> Lab:
    """The fintech client, then step 0's monolith (Flask, its broker, its worker, SQLite)."""
    from demo.monolith import Monolith

    client = FintechClient(port=0, control_port=0).start()
    try:
        bank = Monolith(port=0, client_url=client.webhook_url).start()
    except BaseException:
        client.stop()
        raise
    _show(
        ("monolith", bank.url), ("client webhooks", client.webhook_url), ("broker", bank.broker.display_url)
    )
    return Lab(client, BankApi(bank.url, bank.signing_secret), monolith=bank)


def _show(*parts: tuple[str, str]) -> None:
    width = max(len(name) for name, _ in parts) + 1
    for name, url in parts:
        print(f"{name + ':':<{width}} {url}")
