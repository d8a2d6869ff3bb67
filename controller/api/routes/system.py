"""Health and the playlist-signing public keys agents trust."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from controller.api.deps import ControllerDep
from controller.ops.health import health_report

router = APIRouter(prefix="/api/v1", tags=["system"])


@router.get("/health")
def health(ctl: ControllerDep) -> dict[str, Any]:
    """Each part's state in words; ``status`` is "degraded" and ``degraded`` lists why."""
    return {
        **health_report(ctl),
        "mqtt_connected": ctl.mqtt.connected.is_set(),
        "rejected_messages": ctl.rejects.snapshot(),
        "ingest": vars(ctl.ingestor.stats),
    }


@router.get("/signing-keys")
def signing_keys(ctl: ControllerDep) -> dict[str, list[str]]:
    return {"keys": [ctl.signer.public_key_b64]}
