"""Module-scoped two-commune controller for the API scope and route-matrix tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from integration.controller.two_communes import Communes, build, settings_for

from controller.app import create_app
from controller.broker.process import MosquittoProcess


@pytest.fixture(scope="module")
def communes(
    tmp_path_factory: pytest.TempPathFactory, module_broker: MosquittoProcess
) -> Iterator[Communes]:
    root = tmp_path_factory.mktemp("communes")
    app = create_app(settings_for(root, module_broker))
    with TestClient(app, follow_redirects=False) as client:
        yield build(client, app.state.controller)
