#!/usr/bin/env bash
# One entry point for a fresh Debian machine (run as root or with sudo):
#   bash deploy/dev/bootstrap.sh demo   -> installs what is missing, runs `loa demo`
#   bash deploy/dev/bootstrap.sh test   -> installs what is missing, runs the whole test suite
# Idempotent: packages already present are not reinstalled; the venv is reused.
set -euo pipefail
cd "$(dirname "$0")/../.."

mode="${1:-}"
case "$mode" in demo|test) ;; *) echo "usage: $0 demo|test" >&2; exit 2 ;; esac
shift || true

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

need_pkgs=()
need() { dpkg -s "$1" >/dev/null 2>&1 || need_pkgs+=("$1"); }
need mosquitto
need ffmpeg
need espeak-ng
need poppler-utils  # pdfinfo/pdftoppm: PDF pages become e-board slides (controller)
need python3-venv
if [ "$mode" = test ]; then
  need mosquitto-clients
  need chromium
  need postgresql
  need icecast2
  need nginx
  need systemd      # systemd-analyze verify of the agent unit
  need alsa-utils   # aplay/amixer: agent audio tests through a file-backed ALSA PCM
  need mpv          # the agent's persistent player (tests and loa bench sound-start)
fi
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  echo "bootstrap: installing ${need_pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
extras="controller"
if [ "$mode" = test ]; then extras="controller,dev,postgres"; fi
stamp=".venv/.loaxa-${extras//,/-}-$(sha256sum pyproject.toml | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[${extras}]"
  touch "$stamp"
fi

if [ "$mode" = demo ]; then
  exec .venv/bin/loa demo "$@"
fi
# Test mode: the whole suite on SQLite, then the database-backed integration tests again
# on a throwaway PostgreSQL cluster (tests/conftest.py starts it; LOA_TEST_POSTGRES=1).
# Tests run in parallel worker processes (pytest-xdist): most of them wait on real servers
# and subprocesses rather than compute, so more workers than cores still pays off; a test
# file stays on one worker so its module-scoped systems start once.
#
# A few tests measure real time (sound on time, a link cut for N seconds, a restart within
# a bound); on a loaded 2-core machine one of them now and then misses its bound while
# four workers compete for the cores. A pass whose failures are that few runs those tests
# once more, alone, and counts them as passed only if they pass alone; they are listed as
# "load-sensitive" so they get looked at. More failures than LOA_TEST_RERUN_MAX (default 3)
# are not rerun: that is breakage, not load.
run_pass() {
  local status=0
  "$@" || status=$?
  [ "$status" -eq 1 ] || return "$status"  # 0 passed; >1 interrupted, usage or internal error
  local failed
  failed=$(.venv/bin/python -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' \
    .pytest_cache/v/cache/lastfailed 2>/dev/null || echo 999)
  if [ "$failed" -gt "${LOA_TEST_RERUN_MAX:-3}" ]; then
    return 1
  fi
  echo "bootstrap: $failed test(s) failed under parallel load; running them again, alone:"
  .venv/bin/python -c 'import json,sys; print("\n".join(sorted(json.load(open(sys.argv[1])))))' \
    .pytest_cache/v/cache/lastfailed | sed 's/^/  load-sensitive: /'
  .venv/bin/python -m pytest -q -n 0 --last-failed --last-failed-no-failures none
}
workers=(-n "${LOA_TEST_WORKERS:-4}" --dist loadfile --durations=30)
run_pass .venv/bin/python -m pytest "${workers[@]}" "$@"
if [ "$#" -eq 0 ]; then
  echo "bootstrap: second pass on PostgreSQL"
  # Every integration test whose outcome depends on the database, again on PostgreSQL.
  # Run once only: audio (no database), the agent side (it talks to a test double of the
  # controller, never to a database), the live relay and the broker fixture (no database),
  # the served agent install/update, TLS transport, the load harness and benchmark smoke
  # tests (their controller only stores rows the other tests cover); fuzz and fault runs too;
  # and the two role/scope matrices (900 requests asking the queries that the commune-scope
  # tests also run on PostgreSQL: what the matrices check is the role rules, not the database).
  # Also once only: the tests whose controller's database only holds what the tests above
  # already cover on PostgreSQL, and whose subject is processes, the broker or the agent
  # (the demo, a multilingual bulletin through a real agent, progressive emergency
  # streaming, the relay interrupt, broker rights, enrolment over TLS, the nodes CLI, the
  # panel's i18n guard, an upgrade while an agent plays, a restart's delivery).
  # This pass waits on servers more than it computes (~1.3 of 2 cores busy with 4 workers):
  # more workers shorten it.
  pg_workers=(-n "${LOA_TEST_PG_WORKERS:-6}" --dist loadfile --durations=30)
  export LOA_TEST_POSTGRES=1
  run_pass .venv/bin/python -m pytest -q "${pg_workers[@]}" \
    tests/integration --ignore=tests/integration/audio \
    --ignore=tests/integration/controller/test_route_matrix.py \
    --ignore=tests/integration/panel/test_roles.py \
    --ignore=tests/integration/agent \
    --ignore=tests/integration/emergency/test_live_relay.py \
    --ignore=tests/integration/test_mosquitto_fixture.py \
    --ignore=tests/integration/agent_dist/test_install_from_controller.py \
    --ignore=tests/integration/agent_dist/test_update_rollback.py \
    --ignore=tests/integration/tls \
    --ignore=tests/integration/loadsim --ignore=tests/integration/bench \
    --ignore=tests/integration/e2e/test_demo.py \
    --ignore=tests/integration/e2e/test_multilingual_bulletin.py \
    --ignore=tests/integration/emergency/test_progressive_emergency.py \
    --ignore=tests/integration/emergency/test_relay_interrupt.py \
    --ignore=tests/integration/fleet/test_broker_acl.py \
    --ignore=tests/integration/fleet/test_broker_rights_both_brokers.py \
    --ignore=tests/integration/fleet/test_enrolment_security.py \
    --ignore=tests/integration/fleet/test_nodes_cli.py \
    --ignore=tests/integration/panel/test_i18n_guard.py \
    --ignore=tests/integration/ops/test_upgrade_while_playing.py \
    --ignore=tests/integration/schedules/test_restart_delivery.py
fi
