"""The playlist a node was last sent, read back and checked against the controller's keys."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from controller.db.models import PublishedPlaylist
from protocol.models import Playlist
from protocol.signing import Verifier


def published_playlist(client: TestClient, node_id: str) -> Playlist:
    """Verified like an agent does: a bad signature raises."""
    ctl: Any = client.app.state.controller  # type: ignore[attr-defined]
    verifier = Verifier.from_b64(client.get("/api/v1/signing-keys").json()["keys"])
    with ctl.sessions() as session:
        row = session.get(PublishedPlaylist, node_id)
        assert row is not None, f"nothing published to {node_id}"
        return verifier.verify(Playlist, row.payload.encode())
