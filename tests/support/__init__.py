"""Test support: real controller and agent processes started on loopback."""
