"""The load-test harness: many real agents simulated in few processes, and the benchmarks.

It imports ``agent`` (and the controller, for the benchmarks); nothing in the product imports
it, and it is not part of the installed package (``pyproject.toml`` packages.find), so a
Raspberry Pi never carries it. Run it from a source checkout: ``python -m loadsim``.
"""
