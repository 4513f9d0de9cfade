"""``bankdemo chaos TARGET MODE [VALUE]``: faults on cue, for the presenter and the scenarios.

Targets and where the fault lives (never in the app's code):

- ``dynamodb``, ``sqs``, ``events``, ``kms``, ``ssm``, ``stepfunctions``: the local cloud's
  middleware in front of the emulated service (``up``, ``down``, ``errors P``, ``slow MS``);
- ``client``: the fintech client's receiver (``up``, ``down``, ``slow SECONDS``, ``error``);
- ``broker``: the monolith's broker (``restart``: what it held is lost);
- ``database``: the monolith's SQLite database (``down``, ``up``).

``bankdemo chaos status`` shows them all; ``bankdemo chaos reset`` puts every one back up.
"""

from __future__ import annotations

from typing import Annotated

import typer

from demo import settings
from demo.cli.common import AwsOption
from demo.localcloud.chaos import MODES, TARGETS
from demo.operations.chaos import inject

ClientControlOption = Annotated[
    str,
    typer.Option("--client-control", envvar="CLIENT_CONTROL_URL", help="The fintech client's control URL."),
]
MonolithOption = Annotated[str, typer.Option("--monolith", envvar="MONOLITH_URL", help="The monolith's URL.")]

HELP = (
    "Inject a fault on cue, or mend it (up). TARGET: "
    f"{', '.join(TARGETS)} (the local cloud; MODE {' | '.join(MODES)}, with P for errors and MS for slow); "
    "client (up | down | slow SECONDS | error); broker (restart); database (down | up) (the monolith's); "
    "or status, or reset (every local cloud service back up)."
)


def chaos(
    target: Annotated[str, typer.Argument(help="What to break: see above; or status, reset.")],
    mode: Annotated[str | None, typer.Argument(help="How: up, down, errors, slow, error, restart.")] = None,
    value: Annotated[
        float | None, typer.Argument(help="errors: fraction failing; slow: ms (client: s).")
    ] = None,
    aws_endpoint: AwsOption = settings.AWS_ENDPOINT,
    client_control: ClientControlOption = settings.CLIENT_CONTROL_URL,
    monolith: MonolithOption = settings.MONOLITH_URL,
) -> None:
    inject(target, mode, value, aws_endpoint=aws_endpoint, client_control=client_control, monolith=monolith)
