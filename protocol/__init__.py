"""The wire contract between the controller and the village agents.

Everything that crosses MQTT is defined here once: topic names, pydantic message models and
Ed25519 signing. Controller and agent both import this package; it imports nothing of ours.
"""
