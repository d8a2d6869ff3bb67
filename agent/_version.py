"""The agent's release version: ``loa agent-dist build --version V`` rewrites this file inside
the wheel it builds, so an installed agent reports (in heartbeats) the release it came from."""

VERSION = "0.1.0"
