"""First-boot enrolment: trade a one-time token for this node's identity and credentials.

The token (``protocol/enrol_token.py``) names the node and pins the controller: the SHA-256
of its playlist signing key and, when it has a private CA, of that CA certificate. Steps,
each of which refuses before anything is written:

1. ``http://`` is refused unless ``insecure`` (demo and tests only): a man in the middle
   would read the token and could hand out his own broker.
2. With a CA pin: ``GET /api/v1/enrol/ca.pem`` (unverified; it is public), its SHA-256 must
   equal the pin; the enrolment itself then goes over HTTPS verified against that CA only.
3. ``POST /api/v1/enrol {"token"}`` answers with the node id, its own broker credentials,
   the signing keys, zones, the CA and the lowest playlist version to accept. Only the
   signing key whose SHA-256 equals the key pin is kept: a server with another key is
   refused, and extra keys slipped into the answer are never trusted.

The result is written to the agent's TOML config with mode 0600 (it holds the broker
password), atomically, with the CA beside it (``tls_ca``, used for MQTT and HTTPS).
"""

from __future__ import annotations

import hmac
import json
import ssl
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, TextIO
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from protocol import private_file
from protocol.enrol_token import BadToken, EnrolToken, cert_pin, key_pin
from protocol.models import Slug

MAX_TOKEN_CHARS = 400
STDIN = "-"  # ``--token -`` / ``--token-file -``: read the token from standard input


class EnrolError(RuntimeError):
    """Enrolment failed; the message says why (bad token, wrong pin, controller unreachable…)."""


class Enrolment(BaseModel):
    model_config = ConfigDict(extra="ignore")

    node_id: Slug
    mqtt_username: Annotated[str, Field(min_length=1, max_length=200)]
    mqtt_password: Annotated[str, Field(min_length=1, max_length=500)]
    signing_keys: Annotated[list[str], Field(min_length=1, max_length=10)]
    zones: list[Slug] = []
    mqtt_host: Annotated[str, Field(max_length=253)] | None = None
    mqtt_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    ca_pem: Annotated[str, Field(max_length=20_000)] | None = None
    min_playlist_version: Annotated[int, Field(ge=0)] = 0


@dataclass(frozen=True)
class EnrolOptions:
    insecure: bool = False  # allow http:// (demo and tests only)
    timeout_s: float = 30.0


def read_token(token_arg: str | None, token_file: Path | None, stdin: TextIO = sys.stdin) -> str:
    """The token from ``--token-file PATH`` or ``--token -`` (stdin), never from argv."""
    if token_arg is not None and token_arg != STDIN:
        raise EnrolError(
            "refusing a token on the command line (other users can read it in the process "
            "list): use --token-file PATH, or --token - and pipe it on stdin"
        )
    if token_file is not None and token_arg is not None:
        raise EnrolError("give either --token - or --token-file, not both")
    try:
        if token_file is not None and str(token_file) != STDIN:
            text = token_file.read_text(encoding="utf-8")[: MAX_TOKEN_CHARS + 1]
        elif token_arg == STDIN or token_file is not None:
            text = stdin.read(MAX_TOKEN_CHARS + 1)
        else:
            raise EnrolError("enrolment needs --token-file PATH or --token - (stdin)")
    except (OSError, UnicodeDecodeError) as exc:
        raise EnrolError(f"cannot read the token: {exc}") from None
    text = text.strip()
    if not text or len(text) > MAX_TOKEN_CHARS:
        raise EnrolError("no enrolment token given (empty or too long)")
    return text


def _check_url(controller_url: str, options: EnrolOptions) -> None:
    scheme = urlsplit(controller_url).scheme
    if scheme == "https":
        return
    if scheme == "http" and options.insecure:
        print("WARNING: enrolling over plain http:// (--insecure): demo and tests only",
              file=sys.stderr)  # fmt: skip
        return
    if scheme == "http":
        raise EnrolError(
            "refusing plain http:// for enrolment (anyone on the path could read the token "
            "and impersonate the controller): use the controller's https:// URL "
            "(--insecure exists for demos and tests only)"
        )
    raise EnrolError(f"controller URL must start with https:// (got {controller_url!r})")


def _pinned_ca(
    base: str, token: EnrolToken, options: EnrolOptions, client: httpx.Client | None
) -> str | None:
    """The controller's CA, fetched and checked against the token's pin (None: no CA pin)."""
    if token.ca_pin is None:
        return None
    url = base + "/api/v1/enrol/ca.pem"
    http = client or httpx.Client(timeout=options.timeout_s, verify=False)  # noqa: S501
    try:
        resp = http.get(url)
    except httpx.HTTPError as exc:
        raise EnrolError(f"cannot reach {url}: {exc}") from None
    if resp.status_code != 200:
        raise EnrolError(f"{url}: HTTP {resp.status_code}; the token expects a private CA")
    try:
        pin = cert_pin(resp.text[:20_000])
    except BadToken as exc:
        raise EnrolError(f"{url}: {exc}") from None
    if not hmac.compare_digest(pin, token.ca_pin):
        raise EnrolError(
            "the controller's CA certificate does not match the pin in the token: refusing "
            "(wrong server, or a man in the middle)"
        )
    return resp.text


def request_enrolment(
    controller_url: str,
    token_text: str,
    client: httpx.Client | None = None,
    options: EnrolOptions | None = None,
) -> Enrolment:
    """Check the URL and both pins, enrol, and return only what the pins vouch for."""
    options = options or EnrolOptions()
    try:
        token = EnrolToken.parse(token_text)
    except BadToken as exc:
        raise EnrolError(f"bad enrolment token: {exc}") from None
    _check_url(controller_url, options)
    base = controller_url.rstrip("/")
    ca_pem = _pinned_ca(base, token, options, client)
    verify: ssl.SSLContext | bool = True
    if ca_pem is not None:
        verify = ssl.create_default_context(cadata=ca_pem)
    url = base + "/api/v1/enrol"
    http = client or httpx.Client(timeout=options.timeout_s, verify=verify)
    try:
        resp = http.post(url, json={"token": str(token)})
    except httpx.HTTPError as exc:
        raise EnrolError(f"cannot reach {url}: {exc}") from None
    if resp.status_code != 200:
        detail = resp.text[:200].strip()
        raise EnrolError(f"enrolment refused by {url}: HTTP {resp.status_code} {detail}")
    try:
        enrolment = Enrolment.model_validate(resp.json())
    except (ValueError, ValidationError) as exc:
        raise EnrolError(f"unexpected enrolment answer: {exc}") from None
    return _vouched(enrolment, token, ca_pem)


def _vouched(enrolment: Enrolment, token: EnrolToken, ca_pem: str | None) -> Enrolment:
    if enrolment.node_id != token.node_id:
        raise EnrolError(f"the controller enrolled {enrolment.node_id!r}, not {token.node_id!r}")
    pinned = [k for k in enrolment.signing_keys if _key_pin_or_none(k) == token.key_pin]
    if not pinned:
        raise EnrolError(
            "the controller's signing key does not match the pin in the token: refusing "
            "(wrong server, or a man in the middle)"
        )
    return enrolment.model_copy(update={"signing_keys": pinned[:1], "ca_pem": ca_pem})


def _key_pin_or_none(key_b64: str) -> str | None:
    try:
        return key_pin(key_b64)
    except ValueError:
        return None


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
    ca_path: Path | None = None,
) -> str:
    """The TOML text; broker host/port: the caller's override, else the controller's
    answer, else the controller URL's host and 1883 (8883 with a CA)."""
    values: dict[str, object] = {
        "node_id": enrolment.node_id,
        "zones": list(enrolment.zones),
        "controller_url": controller_url,
        "mqtt_host": mqtt_host
        or enrolment.mqtt_host
        or urlsplit(controller_url).hostname
        or "127.0.0.1",
        "mqtt_port": mqtt_port or enrolment.mqtt_port or (8883 if ca_path else 1883),
        "mqtt_username": enrolment.mqtt_username,
        "mqtt_password": enrolment.mqtt_password,
        "trusted_keys": list(enrolment.signing_keys),
        "min_playlist_version": enrolment.min_playlist_version,
        "data_dir": "/var/lib/loa/agent",
    }
    if ca_path is not None:
        values["tls_ca"] = str(ca_path)
    values.update(extra or {})
    lines = ["# Written by `loa agent --enrol`; holds broker credentials (mode 0600)."]
    lines += [f"{key} = {_toml_value(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def write_enrolment(
    enrolment: Enrolment,
    controller_url: str,
    config_path: Path,
    mqtt_host: str | None = None,
    mqtt_port: int | None = None,
) -> None:
    """Write the pinned CA (if any) beside the config, then the config itself."""
    ca_path = None
    if enrolment.ca_pem is not None:
        ca_path = config_path.with_name("controller-ca.pem")
        write_private(ca_path, enrolment.ca_pem)
    text = render_config(enrolment, controller_url, mqtt_host, mqtt_port, ca_path=ca_path)
    write_private(config_path, text)


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``, mode 0600 from the first byte (also over a looser file)."""
    private_file.write_private(path, text.encode("utf-8"))
