"""The simulated fleet runs real agents: it uses the agent tests' fixtures (a media server, a
signer, a fake controller on the broker, signed playlists)."""

from tests.integration.agent.conftest import (  # noqa: F401 - fixtures, found by name
    controller_factory,
    media_server,
    playlist_factory,
    signer,
)
