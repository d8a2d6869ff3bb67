"""Subcommands of ``loa``: one module each, exposing ``register(subparsers)``."""
