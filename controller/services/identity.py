"""The controller's identity as agents see it: its signing key and the CA they must trust.

Enrolment tokens pin both (``protocol/enrol_token.py``); the enrolment answer and
``GET /api/v1/enrol/ca.pem`` hand out the CA certificate itself. The CA file is read on each
call so a renewed certificate needs no restart.
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.config import ControllerSettings
from controller.services.provisioning import Identity
from protocol.enrol_token import cert_pin, key_pin
from protocol.signing import Signer


@dataclass(frozen=True)
class ControllerIdentity:
    pins: Identity
    signing_key_b64: str
    ca_pem: str | None


def controller_identity(settings: ControllerSettings, signer: Signer) -> ControllerIdentity:
    ca_path = settings.resolved_agent_tls_ca
    ca_pem = ca_path.read_text() if ca_path is not None else None
    pins = Identity(
        key_pin=key_pin(signer.public_key_b64),
        ca_pin=cert_pin(ca_pem) if ca_pem is not None else None,
    )
    return ControllerIdentity(pins, signer.public_key_b64, ca_pem)
