"""``loa bench``: one package of benchmarks behind the ``loa`` command; ``--json`` is real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

BENCHMARKS = {
    "agent-idle", "agent-latency", "compile", "emergency", "fanout", "faults", "field",
    "heartbeat-storage", "ingest", "panel", "reading", "sound-start", "timing", "tts",
}  # fmt: skip


def loa(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args], capture_output=True, text=True, timeout=120
    )


def test_loa_bench_help_lists_every_benchmark_module() -> None:
    done = loa("bench", "--help")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    listed = {line.split()[0] for line in lines if line[:4] == "    " and line[4:5] != " "}
    assert listed == BENCHMARKS


def test_json_flag_chooses_one_json_line_over_a_table() -> None:
    small = ("bench", "compile", "--nodes", "12", "--items", "4", "--communes", "2")
    as_json = loa(*small, "--json")
    assert as_json.returncode == 0, as_json.stderr
    report = json.loads(as_json.stdout)
    assert report["nodes"] == 12 and report["results_match_baseline"] is True
    table = loa(*small)
    assert table.returncode == 0, table.stderr
    rows = dict(line.split(None, 1) for line in table.stdout.splitlines())
    assert rows["nodes"] == "12" and rows["results_match_baseline"] == "True"
    assert set(rows) == set(report)


def test_a_benchmark_error_is_one_line_and_exit_2() -> None:
    done = loa("bench", "fanout", "--agents", "0")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "loa bench: error: --agents and --rounds must be at least 1"
    )


def test_loa_bench_runs_from_any_directory_of_a_checkout(tmp_path: Path) -> None:
    """The README's venv has the product installed editable (no loadsim on its path): the
    ``loa`` command must still find the benchmarks beside the cli it was loaded from."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    code = "import sys; from cli.main import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run(
        [sys.executable, "-c", code, "bench", "--help"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "reading" in done.stdout
