"""``create_app`` is the one place the controller is assembled: every route module is in its
explicit router list (a new one that is not would silently be missing from the app)."""

from __future__ import annotations

import importlib
import pkgutil

from controller import app as assembly

PACKAGES = {"controller.api.routes": "API_ROUTERS", "controller.panel.routes": "PANEL_ROUTERS"}


def test_every_route_module_is_listed_in_create_app() -> None:
    for package_name, listing in PACKAGES.items():
        package = importlib.import_module(package_name)
        modules = [
            importlib.import_module(f"{package_name}.{info.name}")
            for info in pkgutil.iter_modules(package.__path__)
            if not info.name.startswith("_")
        ]
        listed = {id(router) for router in getattr(assembly, listing)}
        missing = [m.__name__ for m in modules if id(m.router) not in listed]
        assert not missing, f"add to {listing} in controller/app.py: {missing}"
        assert len(listed) == len(modules)
