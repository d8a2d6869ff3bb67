"""The emergency path's tables, re-exported from ``controller.db.models`` where they now live.

Kept so the emergency service, CAP intake and the routes import them by their usual name.
"""

from __future__ import annotations

from controller.db.models import Emergency, UpstreamAlert, ZoneGeocode

__all__ = ["Emergency", "UpstreamAlert", "ZoneGeocode"]
