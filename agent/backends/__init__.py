"""Output backends (player, amplifier, volume): small classes chosen by configuration.

``null`` and ``tap`` players keep real timing without sound hardware, for tests, benchmarks
and simulated fleets.
"""

from agent.backends.factory import make_amplifier, make_player, make_volume

__all__ = ["make_amplifier", "make_player", "make_volume"]
