"""First-boot enrolment: trade a one-time token for this node's identity and credentials.

``POST {controller}/api/v1/enrol {"token": ...}`` answers with the node id, its own broker
credentials, the controller's signing keys and the node's zones. They are written to the
agent's TOML config with mode 0600 (it holds the broker password), atomically.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from protocol.models import Slug


class EnrolError(RuntimeError):
    """Enrolment failed; the message says why (bad token, controller unreachable, …)."""


class Enrolment(BaseModel):
    model_config = ConfigDict(extra="ignore")

    node_id: Slug
    mqtt_username: Annotated[str, Field(min_length=1, max_length=200)]
    mqtt_password: Annotated[str, Field(min_length=1, max_length=500)]
    signing_keys: Annotated[list[str], Field(min_length=1, max_length=10)]
    zones: list[Slug] = []
    mqtt_host: Annotated[str, Field(max_length=253)] | None = None
    mqtt_port: Annotated[int, Field(ge=1, le=65535)] | None = None


def request_enrolment(
    controller_url: str, token: str, client: httpx.Client | None = None
) -> Enrolment:
    url = controller_url.rstrip("/") + "/api/v1/enrol"
    http = client or httpx.Client(timeout=30)
    try:
        resp = http.post(url, json={"token": token})
    except httpx.HTTPError as exc:
        raise EnrolError(f"cannot reach {url}: {exc}") from None
    if resp.status_code != 200:
        detail = resp.text[:200].strip()
        raise EnrolError(f"enrolment refused by {url}: HTTP {resp.status_code} {detail}")
    try:
        return Enrolment.model_validate(resp.json())
    except (ValueError, ValidationError) as exc:
        raise EnrolError(f"unexpected enrolment answer: {exc}") from None


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a TOML basic string


def render_config(
    enrolment: Enrolment,
    controller_url: str,
    mqtt_host: str | None = None,
    mqtt_port: int | None = None,
    extra: dict[str, object] | None = None,
) -> str:
    """The TOML text; broker host/port: the caller's override, else the controller's
    answer, else the controller URL's host and 1883."""
    values: dict[str, object] = {
        "node_id": enrolment.node_id,
        "zones": list(enrolment.zones),
        "controller_url": controller_url,
        "mqtt_host": mqtt_host
        or enrolment.mqtt_host
        or urlsplit(controller_url).hostname
        or "127.0.0.1",
        "mqtt_port": mqtt_port or enrolment.mqtt_port or 1883,
        "mqtt_username": enrolment.mqtt_username,
        "mqtt_password": enrolment.mqtt_password,
        "trusted_keys": list(enrolment.signing_keys),
        "data_dir": "/var/lib/loa/agent",
    }
    values.update(extra or {})
    lines = ["# Written by `loa agent --enrol`; holds broker credentials (mode 0600)."]
    lines += [f"{key} = {_toml_value(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def write_private(path: Path, text: str) -> None:
    """Create ``path`` with mode 0600 from the start (never briefly world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
