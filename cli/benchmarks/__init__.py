"""Benchmark implementations, imported only when their ``loa bench`` command runs (so the
agent's ``loa agent`` never loads the controller stack)."""
