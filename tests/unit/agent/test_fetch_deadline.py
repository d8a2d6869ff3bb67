"""A failed download never makes an item miss its time because of backoff: the retry wait is
capped by the earliest need less a download lead, a reconnect brings needed retries forward,
and jitter still spreads a fleet (FakeClock; the controller is a real httpx transport)."""

from __future__ import annotations

import functools
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from unit.agent.test_cache import BODY, Server, ref

from agent.backoff import Backoff
from agent.cache import CacheWorker, MediaCache
from agent.config import AgentSettings
from agent.fetch_deadline import (
    CONNECT_LEAD_S,
    RECONNECT_SPREAD_S,
    Need,
    lead_s,
    retry_window,
    seconds_to_need,
)
from agent.prefetch import needs_of
from agent.runtime import AgentRuntime
from protocol.clock import FakeClock
from protocol.models import ItemKind, MediaRef, Playlist, PlaylistItem
from protocol.signing import Signer

T0 = datetime(2026, 3, 1, 7, tzinfo=UTC)
DOWN = 10**9  # Server.fail: every request answered 503, as while the controller is away


def need_in(clock: FakeClock, seconds: float, duration_s: float = 60) -> Need:
    start = clock.now() + timedelta(seconds=seconds)
    return Need(start, start + timedelta(seconds=duration_s))


@functools.cache
def client_of(server: Server) -> httpx.Client:
    """One client per controller: a fleet test makes 100 workers, not 100 TLS contexts."""
    return httpx.Client(transport=httpx.MockTransport(server))


class Fleet:
    """One node's worker on a fake clock, its controller, and when each request arrived."""

    def __init__(
        self, tmp: Path, files: list[bytes], seed: int | None = 0, server: Server | None = None
    ) -> None:
        self.refs = [ref(b) for b in files]
        self.server = server or Server(
            {r.filename: b for r, b in zip(self.refs, files, strict=True)}
        )
        self.clock = FakeClock(T0)
        rand = random.Random(seed).uniform if seed is not None else (lambda _lo, hi: hi)
        cache = MediaCache(tmp, "http://controller", 10**9, client_of(self.server))
        self.worker = CacheWorker(cache, self.clock, 1.0, 300.0, rand=rand)
        self.fetched_at: dict[str, float] = {}

    def want(self, needs: dict[str, list[Need]]) -> None:
        self.worker.want(self.refs, needs)

    def run_for(self, seconds: float) -> None:
        """Run the worker as its thread would: each step, then sleep until the next is due."""
        end = self.clock.monotonic() + seconds
        while True:
            missing = {m.filename for m in self.worker.missing()}
            delay = self.worker.run_once()
            now = self.clock.monotonic()
            for name in missing - {m.filename for m in self.worker.missing()}:
                self.fetched_at[name] = now
            if not self.worker.missing() or now >= end:
                return
            self.clock.advance(min(max(delay, 0.01), end - now))


def test_lead_is_a_connect_allowance_plus_the_size_at_a_weak_links_rate() -> None:
    assert lead_s(0) == CONNECT_LEAD_S
    assert lead_s(379_000) == CONNECT_LEAD_S + 379_000 / 12_500  # a 53 s notice: ~40 s
    now = T0
    later = Need(now + timedelta(seconds=90), now + timedelta(seconds=150))
    playing = Need(now - timedelta(seconds=5), now + timedelta(seconds=30))
    over = Need(now - timedelta(seconds=90), now - timedelta(seconds=30))
    assert seconds_to_need([later], now) == 90
    assert seconds_to_need([later, playing], now) == 0  # already playing: needed now
    assert seconds_to_need([over], now) is None  # past items need nothing
    assert retry_window([later], 0, now) == 90 - CONNECT_LEAD_S
    assert retry_window([later], 10**7, now) == 0  # too big to make it: needed now
    assert retry_window([], 0, now) is None


def test_backoff_within_a_deadline_keeps_a_jittered_floor() -> None:
    highest = Backoff(1.0, 300.0, rand=lambda _lo, hi: hi)
    highest.attempt = 20
    assert highest.cap() == 300 and highest.cap(within=45) == 45
    assert highest.cap(within=0) == 2.0  # needed now: [1 s, 2 s], not one instant
    highest.reset()
    assert highest.cap() == 1.0 and highest.cap(within=0) == 2.0
    before = highest.attempt
    assert highest.draw(within=10) == 2.0 and highest.attempt == before  # draw: not counted


def test_file_failing_20_minutes_is_fetched_before_its_item_due_in_90_s(tmp_path: Path) -> None:
    """Whatever the jitter draws: the controller is back 90 s before the item and the file
    is in the cache a download lead before the item starts (the old 300 s backoff left it
    minutes late for most seeds)."""
    late = []
    for seed in range(30):
        fleet = Fleet(tmp_path / str(seed), [BODY], seed)
        media = fleet.refs[0]
        fleet.want({media.filename: [need_in(fleet.clock, 20 * 60 + 90)]})
        fleet.server.fail = DOWN
        fleet.run_for(20 * 60)
        assert len(fleet.server.requests) > 5  # it did fail for 20 minutes, backing off
        fleet.server.fail = 0  # the controller is back; the item is due in 90 s
        fleet.run_for(90)
        fetched = fleet.fetched_at.get(media.filename)
        if fetched is None or fetched > 20 * 60 + 90 - lead_s(media.size):
            late.append(seed)
    assert late == []


def test_reconnect_fetches_a_needed_file_within_the_spread(tmp_path: Path) -> None:
    fleet = Fleet(tmp_path, [BODY], seed=None)  # jitter always draws its top: the worst case
    media = fleet.refs[0]
    fleet.want({media.filename: [need_in(fleet.clock, 25 * 60)]})
    fleet.server.fail = DOWN
    fleet.run_for(20 * 60)
    assert fleet.worker.run_once() > RECONNECT_SPREAD_S  # on the long backoff
    fleet.server.fail = 0
    fleet.worker.link_up()  # MQTT reconnected: the controller is reachable again
    fleet.run_for(RECONNECT_SPREAD_S)
    assert fleet.fetched_at[media.filename] <= 20 * 60 + RECONNECT_SPREAD_S


def test_a_download_brings_the_other_needed_retries_forward(tmp_path: Path) -> None:
    fleet = Fleet(tmp_path, [BODY, BODY[:-1]], seed=None)
    first, second = fleet.refs
    needs = {m.filename: [need_in(fleet.clock, 25 * 60)] for m in fleet.refs}
    fleet.server.fail = DOWN
    fleet.worker.want([first], needs)
    fleet.run_for(150)  # the second file is wanted later: its backoff is out of step
    fleet.worker.want([first, second], needs)
    fleet.run_for(20 * 60 - 150)
    fleet.server.fail = 0
    fleet.run_for(300)  # no reconnect signal: the first backoff that ends fetches a file
    assert set(fleet.fetched_at) == {first.filename, second.filename}
    first_fetch = min(fleet.fetched_at.values())
    assert max(fleet.fetched_at.values()) <= first_fetch + RECONNECT_SPREAD_S


def test_a_file_needed_in_6_hours_keeps_the_long_backoff(tmp_path: Path) -> None:
    fleet = Fleet(tmp_path, [BODY], seed=None)
    media = fleet.refs[0]
    fleet.want({media.filename: [need_in(fleet.clock, 6 * 3600)]})
    fleet.server.fail = DOWN
    fleet.run_for(3600)
    assert 12 <= len(fleet.server.requests) <= 20  # 1+2+…+256, then every 300 s
    fleet.worker.link_up()  # a reconnect does not stampede for files needed hours away
    assert fleet.worker.run_once() > RECONNECT_SPREAD_S


def test_a_sooner_need_replans_a_pending_retry(tmp_path: Path) -> None:
    fleet = Fleet(tmp_path, [BODY], seed=None)
    media = fleet.refs[0]
    fleet.want({})  # no known need: the plain backoff
    fleet.server.fail = DOWN
    fleet.run_for(1800)
    assert fleet.worker.run_once() > 60
    fleet.want({media.filename: [need_in(fleet.clock, 60)]})  # a new playlist
    assert fleet.worker.run_once() <= 60 - lead_s(media.size) + 1e-6


def test_jitter_still_spreads_a_fleet_after_a_reconnect(tmp_path: Path) -> None:
    """100 nodes, each failing for 20 min, reconnect in the same instant: their retries of a
    file needed in 5 min spread over the spread window, not one second."""
    retry_in, controller = [], Server({})
    for seed in range(100):
        fleet = Fleet(tmp_path / str(seed), [BODY], seed, controller)
        fleet.want({fleet.refs[0].filename: [need_in(fleet.clock, 25 * 60)]})
        fleet.server.fail = DOWN
        fleet.run_for(20 * 60)
        fleet.worker.link_up()
        retry_in.append(fleet.worker.run_once())
    assert all(0 <= r <= RECONNECT_SPREAD_S for r in retry_in)
    per_second = Counter(int(r) for r in retry_in)
    assert max(per_second.values()) <= 12 and len(per_second) >= 20


def test_a_file_needed_now_retries_at_the_shortest_cadence_with_jitter(tmp_path: Path) -> None:
    retry_in, controller = [], Server({})
    for seed in range(100):
        fleet = Fleet(tmp_path / str(seed), [BODY], seed, controller)
        media: MediaRef = fleet.refs[0]
        fleet.want({media.filename: [need_in(fleet.clock, 40)]})
        fleet.server.fail = DOWN
        fleet.run_for(40)  # the item has started: the file is needed now
        retry_in.append(fleet.worker.run_once())
    assert all(0 <= r <= 2.0 for r in retry_in)
    assert max(retry_in) - min(retry_in) > 0.5 and len({round(r, 3) for r in retry_in}) > 50


def test_needs_of_lists_every_time_each_file_is_needed() -> None:
    media = ref(BODY)

    def item(item_id: str, minutes: int) -> PlaylistItem:
        start = T0 + timedelta(minutes=minutes)
        return PlaylistItem(
            id=item_id, kind=ItemKind.AUDIO, start=start, duration_s=30, media=media
        )

    needs = needs_of([item("a", 90), item("b", 5)])
    assert sorted(n.start for n in needs[media.filename]) == [
        T0 + timedelta(minutes=5),
        T0 + timedelta(minutes=90),
    ]
    assert needs[media.filename][0].end == T0 + timedelta(minutes=90, seconds=30)


def test_the_runtime_tells_its_worker_when_files_are_needed_and_when_the_link_is_up(
    tmp_path: Path,
) -> None:
    clock = FakeClock(T0)
    settings = AgentSettings(
        node_id="n1",
        data_dir=tmp_path,
        controller_url="http://ctl:8080/",
        trusted_keys=[Signer.generate().public_key_b64],
        player="null",
    )
    agent = AgentRuntime(settings, clock)
    media = ref(BODY)
    start = T0 + timedelta(seconds=90)
    item = PlaylistItem(id="i", kind=ItemKind.AUDIO, start=start, duration_s=30, media=media)
    playlist = Playlist(
        node_id="n1",
        version=1,
        generated_at=T0,
        window_start=T0,
        window_end=T0 + timedelta(days=1),
        items=[item],
    )
    agent._accept_playlist(playlist)
    assert agent.cache_worker._window(media) == 90 - lead_s(media.size)
    assert not agent.cache_worker._link_up.is_set()
    agent._on_connected()  # MQTT (re)connected
    assert agent.cache_worker._link_up.is_set()
