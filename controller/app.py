"""The FastAPI application factory: ``create_app(settings)``; nothing is built at import."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from controller.config import ControllerSettings
from controller.services.container import Controller
from protocol.clock import Clock

ROUTER_PACKAGES = ("controller.api.routes", "controller.panel.routes")
# Modules with ``install(app, settings)``: middleware, static files, auth resolvers.
# The body limit goes last so it is the outermost middleware: oversized bodies are refused
# before anything else reads them.
INSTALL_HOOKS = ("controller.panel.setup", "controller.ops.setup", "controller.api.body_limit")


def _include_routers(app: FastAPI) -> None:
    for package_name in ROUTER_PACKAGES:
        try:
            package = importlib.import_module(package_name)
        except ModuleNotFoundError:
            continue
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            if info.name.startswith("_"):
                continue
            module = importlib.import_module(f"{package_name}.{info.name}")
            app.include_router(module.router)


def _run_install_hooks(app: FastAPI, settings: ControllerSettings) -> None:
    for name in INSTALL_HOOKS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        module.install(app, settings)


def create_app(
    settings: ControllerSettings, clock: Clock | None = None, start_services: bool = True
) -> FastAPI:
    """Build the app; the controller (DB, MQTT, jobs) starts and stops with its lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctl = Controller.build(settings, clock)
        app.state.controller = ctl
        if start_services:
            ctl.start()
        try:
            yield
        finally:
            ctl.stop()

    app = FastAPI(title="Loa xã controller", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    _run_install_hooks(app, settings)
    _include_routers(app)
    return app
