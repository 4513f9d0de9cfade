"""Step 0, the "before": the bank's monolith, on the same domain core as the serverless side.

A Flask app receives the processor's notifications and publishes them to a broker; a worker
consumes them, applies them to a SQLite ledger through ``demo.bank``, then notifies the fintech
client synchronously. Its weaknesses are real and can be shown on cue (``Monolith.faults``).

    with Monolith(port=0, client_url=client.webhook_url) as monolith:
        monolith.url
"""

from typing import Any

__all__ = ["Monolith"]


def __getattr__(name: str) -> Any:  # Flask and kombu load on first use, not on `bankdemo --help`
    if name == "Monolith":
        from demo.monolith.app import Monolith

        return Monolith
    raise AttributeError(name)
