"""Job intervals and limits, taken from ``ControllerSettings`` (``LOA_*``) by field name.

The defaults here mirror the settings' defaults so jobs can also be built from a bare
object in tests.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class JobSettings:
    scheduler_enabled: bool = True
    horizon_interval_min: float = 10.0
    heartbeat_retention_days: float = 30.0
    prerender_ahead_h: float = 6.0
    prerender_interval_min: float = 15.0
    retention_interval_h: float = 6.0
    alerts_interval_s: float = 60.0
    lease_ttl_s: float = 15.0
    lease_renew_s: float = 5.0

    @classmethod
    def of(cls, settings: Any) -> JobSettings:
        values = {
            f.name: getattr(settings, f.name) for f in fields(cls) if hasattr(settings, f.name)
        }
        return cls(**values)
