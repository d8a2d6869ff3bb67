"""Broker side: running Mosquitto locally, and its credentials/ACL files."""
