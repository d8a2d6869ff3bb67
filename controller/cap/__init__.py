"""Alerts from upstream: OASIS CAP 1.2 XML (and a simple JSON form) → broadcasts.

``parse`` turns untrusted bytes into a :class:`~controller.cap.model.CapAlert` (defused XML,
size limit, the OASIS XSD); ``json_form`` does the same for JSON; ``mapping`` decides what
a Vietnamese info block becomes; ``intake`` de-duplicates and applies Update/Cancel.
"""
