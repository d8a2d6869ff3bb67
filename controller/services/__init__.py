"""Domain services used by the API, the panel, the CLI and the jobs (no HTTP, no MQTT)."""
