"""Upstream alerts: OASIS CAP 1.2 XML (and a simple JSON form) → broadcasts.

Not the node-health alerts (``services/alerts.py``, ``GET /api/v1/alerts``): these come
from outside (``/api/v1/upstream-alerts/...``). ``parse`` turns untrusted bytes into a
:class:`~controller.upstream_alerts.model.CapAlert` (defused XML, size limit, the OASIS
XSD); ``json_form`` does the same for JSON; ``mapping`` decides what a Vietnamese info
block becomes; ``intake`` de-duplicates and applies Update/Cancel.
"""
