"""Benchmarks (``loa bench NAME``): one module each, exposing ``register(subparsers)``; JSON out."""
