"""Call the running controller's HTTP API from a command (``loa emergency``, ``loa fleet``):
the controller signs, publishes and audits, so these commands never touch its database.

``--url`` defaults to ``$LOA_API_URL`` or http://127.0.0.1:8080; the bearer token comes from
``$LOA_API_TOKEN`` (never from argv, where other users of the machine could read it).
"""

from __future__ import annotations

import json
import os
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from cli.errors import CliError

if TYPE_CHECKING:
    import httpx

DEFAULT_URL = "http://127.0.0.1:8080"


def default_url() -> str:
    return os.environ.get("LOA_API_URL", DEFAULT_URL)


def call_and_print(
    url: str,
    send: Callable[[httpx.Client], httpx.Response],
    *,
    cacert: Path | None = None,
) -> int:
    """Run ``send`` against the controller and print its JSON answer; an unreachable
    controller or a refusal (HTTP >= 400) is a one-line :class:`CliError` with the reason."""
    import httpx

    headers = {}
    if token := os.environ.get("LOA_API_TOKEN"):
        headers["authorization"] = f"Bearer {token}"
    base = url.rstrip("/")
    verify: ssl.SSLContext | bool = True
    if cacert is not None:
        verify = ssl.create_default_context(cafile=str(cacert))
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=60, verify=verify) as client:
            response = send(client)
    except httpx.HTTPError as exc:
        raise CliError(f"controller at {base} not reachable: {exc}") from None
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        raise CliError(f"refused ({response.status_code}): {detail}")
    print(json.dumps(response.json(), ensure_ascii=False, indent=2))
    return 0
