"""The files ``loa setup production`` writes for a real (systemd) server, checked without
installing: nginx accepts the server block, the env file round-trips, communes are found."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from controller.ops.install_files import (
    Layout,
    admin_wrapper,
    controller_env,
    nginx_proxy_include,
    nginx_server,
    parse_env,
    render_env,
)
from controller.ops.metrics import commune_of, publish_kind


def test_env_file_round_trips_awkward_values() -> None:
    values = {"LOA_A": "plain", "LOA_B": "with space and 'quote' $HOME", "LOA_C": ""}
    assert parse_env(render_env(values)) == values


def test_env_file_is_valid_sh_for_loa_admin(tmp_path: Path) -> None:
    layout = Layout(prefix=tmp_path, server_name="loa.example.vn", sandbox=True, user="")
    values = {**controller_env(layout, None, None), "LOA_API_TOKEN": "a$b'c d"}
    layout.env_file.parent.mkdir(parents=True)
    layout.env_file.write_text(render_env(values))
    script = admin_wrapper(layout).replace(f'exec {layout.current / "bin" / "loa"} "$@"',
                                           'printf %s "$LOA_API_TOKEN"')  # fmt: skip
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout == "a$b'c d"


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx not installed")
def test_production_nginx_server_block_passes_nginx_t(tmp_path: Path) -> None:
    layout = Layout(prefix=tmp_path, server_name="loa.example.vn", https_port=8443)
    make_ca = _make_ca()
    _ca, cert, key = make_ca(tmp_path / "tls", ["loa.example.vn"])
    layout.etc.mkdir(parents=True)
    (layout.etc / "nginx-proxy.inc").write_text(nginx_proxy_include(layout))
    server = nginx_server(layout, cert, key)
    assert "client_max_body_size 100m" in server and "client_max_body_size 1m" in server
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\n"
        "events {}\nhttp {\n" + server + "}\n"
    )
    done = subprocess.run(["nginx", "-t", "-c", str(conf), "-p", str(tmp_path)],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr


def _make_ca():  # type: ignore[no-untyped-def]
    import importlib.util

    path = Path(__file__).resolve().parents[3] / "deploy/tls/make_ca.py"
    spec = importlib.util.spec_from_file_location("make_ca_for_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_ca


def test_commune_is_the_nearest_commune_kind_ancestor_else_the_root() -> None:
    zones = {
        "tinh": (None, "tỉnh"),
        "xa-a": ("tinh", "xã"),
        "thon-1": ("xa-a", "thôn"),
        "loose": (None, "zone"),
        "loop-a": ("loop-b", "zone"),
        "loop-b": ("loop-a", "zone"),
    }
    assert commune_of("thon-1", zones) == "xa-a"
    assert commune_of("xa-a", zones) == "xa-a"
    assert commune_of("loose", zones) == "loose"
    assert commune_of("unknown", zones) == "unknown"
    assert commune_of("loop-a", zones) in {"loop-a", "loop-b"}  # a cycle never hangs


def test_publish_kinds_have_low_cardinality() -> None:
    assert publish_kind("loa/v1/node/a-1/playlist") == "playlist"
    assert publish_kind("loa/v1/zone/xa-a/cmd") == "cmd"
    assert publish_kind("loa/v1/node/a-1/events/ack") == "ack"
    assert publish_kind("loa/v1/node/a-1/whatever") == "other"


def test_committed_units_are_what_setup_writes() -> None:
    """deploy/production/systemd/ shows (and systemd-analyze checks) exactly what is installed."""
    from controller.ops.install_files import backup_units, broker_reload_units, controller_unit

    layout = Layout(prefix=Path("/"), server_name="loa.example.vn")
    rendered = {
        "loa-controller.service": controller_unit(layout),
        **broker_reload_units(layout),
        **backup_units(layout),
    }
    folder = Path(__file__).resolve().parents[3] / "deploy/production/systemd"
    for name, text in rendered.items():
        assert (folder / name).read_text() == text, f"regenerate {name}"
    # nothing else: a stale unit or drop-in there would be read as part of the install
    assert {p.name for p in folder.iterdir()} == set(rendered)
