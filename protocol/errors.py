"""Typed errors for messages that cannot be accepted.

Every rejection on the wire raises a subclass of :class:`ProtocolError`; the edge (MQTT
callback, HTTP route) turns it into a counted, logged reject or a 4xx, once.
"""


class ProtocolError(Exception):
    """A message was refused; ``reason`` is meant for a human reading the log."""

    kind = "protocol"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidMessage(ProtocolError):
    """The payload is not valid JSON, too large, or does not match the model."""

    kind = "invalid"


class BadSignature(ProtocolError):
    """The signature is missing, tampered with, or made by a key we do not trust."""

    kind = "signature"


class StaleMessage(ProtocolError):
    """The message is valid but expired, replayed, or older than what we already hold."""

    kind = "stale"
