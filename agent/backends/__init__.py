"""Output backends (player, amplifier, volume): small classes chosen by configuration.

``null`` and ``tap`` players keep the playout clock's real timing without sound hardware: a
node whose sound card or speaker is being repaired still keeps (and reports) its schedule,
and ``tap`` writes each start to a file where a technician (or a test) can check the timing.
"""

from agent.backends.factory import make_amplifier, make_player, make_volume

__all__ = ["make_amplifier", "make_player", "make_volume"]
