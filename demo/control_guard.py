"""What every local control endpoint checks before it changes anything: that a program on this
machine sent the request, not a web page a browser opened.

The local cloud's ``/_chaos``, the fintech client's ``/mode`` and ``/reset`` and the monolith's
``/_admin/faults/...`` break and mend things on cue. A page on any site can make a browser POST
to ``127.0.0.1`` (a form, or ``fetch`` with ``no-cors``: a "simple" request, sent without asking);
a name that resolves to ``127.0.0.1`` (DNS rebinding) can even read the answers. So a request that
would change something is refused (403) when:

- it carries ``Origin`` or ``Sec-Fetch-Site`` other than ``none``: browsers add them, on every
  cross-site POST; ``bankdemo``, httpx, curl and boto3 send neither;
- its ``Host`` is not this machine by number or as ``localhost``: a rebinding page's requests carry
  the attacker's own name.

Reading (``GET``) stays open: a browser cannot read a cross-site answer, and a rebound name is
refused by its ``Host``.
"""

from __future__ import annotations

from collections.abc import Mapping

CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def _host_name(host: str) -> str:
    if host.startswith("["):  # [::1]:8080
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def refusal(method: str, headers: Mapping[str, str]) -> str | None:
    """Why this request may not reach a control endpoint, or None if it may. ``headers``: any case."""
    seen = {k.lower(): v for k, v in headers.items()}
    host = _host_name(seen.get("host", "").strip().lower())
    if host and host not in _LOCAL_HOSTS and not host.replace(".", "").isdigit():
        return f"Host {host!r} is not this machine: control endpoints answer 127.0.0.1 and localhost only"
    if method.upper() not in CHANGES:
        return None
    if "origin" in seen:
        return "a browser sent this (Origin): control endpoints take requests from programs only"
    if seen.get("sec-fetch-site", "none").lower() != "none":
        return "a browser sent this (Sec-Fetch-Site): control endpoints take requests from programs only"
    return None
