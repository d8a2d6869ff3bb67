"""Real-time priority for the few threads the sound start waits on (Linux ``SCHED_FIFO``).

On a busy Pi (a download, an update install, the e-board's browser) a thread that wakes at
the scheduled instant may wait tens of milliseconds for a core, and two speakers in earshot
that start that far apart echo. A ``SCHED_FIFO`` thread takes a core as soon as it wakes. Only
two things get it: the playout clock's thread (it sends the unpause) and the persistent
``mpv`` (its IPC, core and audio threads turn the unpause into sound); both sleep between
items, so they cost the other processes nothing. The kernel keeps 5 % of each second for
ordinary tasks (``sched_rt_runtime_us``) and the unit's ``LimitRTTIME=`` ends a runaway.

An unprivileged agent may do this only up to the unit's ``LimitRTPRIO=``; without it (or
off Linux) the calls change nothing and say so in the log once: the agent plays as before.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

_warned = False


def _fifo(tid: int, priority: int, inherited: bool) -> bool:
    """``SCHED_FIFO`` at ``priority`` for one thread (``tid`` 0: the calling thread); with
    ``inherited`` False the threads and processes it starts get ordinary scheduling."""
    global _warned
    setter = getattr(os, "sched_setscheduler", None)
    if setter is None or priority <= 0:
        return False
    policy = os.SCHED_FIFO if inherited else os.SCHED_FIFO | os.SCHED_RESET_ON_FORK
    try:
        setter(tid, policy, os.sched_param(priority))
    except ProcessLookupError:  # the thread ended meanwhile: nothing left to promote
        return True
    except OSError as exc:  # EPERM without LimitRTPRIO
        if not _warned:
            _warned = True
            log.info("real-time priority %d not granted (%s): normal scheduling", priority, exc)
        return False
    return True


def promote_current_thread(priority: int) -> bool:
    """Run the calling thread (only it: Linux schedules threads) at ``priority``; False
    when not allowed or ``priority`` is 0. What it starts does not inherit the priority:
    the playout clock's thread starts the update thread, ``amixer`` and player processes."""
    return _fifo(0, priority, inherited=False)


def promote_process(pid: int, priority: int) -> bool:
    """Every thread of process ``pid`` at ``priority``; the threads it starts later (mpv's
    demuxer, decoder and audio output for each file) inherit it. True if all were promoted."""
    tasks = Path(f"/proc/{pid}/task")
    done: set[int] = set()
    for _ in range(5):  # again while new threads appear: one may have been started by a
        try:  # thread just before it was promoted, and so not inherit the priority
            tids = {int(entry.name) for entry in tasks.iterdir()}
        except OSError:
            return False
        new = tids - done
        if not new:
            return bool(done)
        for tid in new:
            if not _fifo(tid, priority, inherited=True):
                return False
        done |= new
    return True


def current_priority(tid: int = 0) -> int:
    """The ``SCHED_FIFO``/``SCHED_RR`` priority of a thread, 0 for ordinary scheduling."""
    getter = getattr(os, "sched_getparam", None)
    if getter is None:
        return 0
    try:
        return int(getter(tid).sched_priority)
    except OSError:
        return 0
