"""The production compose file gives each container only its own files.

Parsed with PyYAML (anchors and merge keys resolved, as compose does); Docker is not run.
Only the controllers may mount the folder with the playlist signing key; nothing mounts the
CA private key or the secrets root; EMQX authenticates and authorises through the
controller's hooks and denies whatever they do not allow.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

PROD = Path(__file__).parents[3] / "deploy" / "production"
KEYS_DIR = "./secrets/controller"


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((PROD / "compose.yaml").read_text())
    return data


def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose()["services"]
    return found


def bind_sources(service: dict[str, Any]) -> list[str]:
    """Host paths a service bind-mounts (short "src:dst[:mode]" or long syntax)."""
    out = []
    for volume in service.get("volumes", []):
        source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source", "")
        if source.startswith((".", "/", "~")):
            out.append(source)
    return out


def is_controller(service: dict[str, Any]) -> bool:
    return list(service.get("command", [])) == ["loa", "controller"]


def covers(source: str, target: str) -> bool:
    """Whether mounting ``source`` exposes ``target`` (the same folder or a parent of it)."""
    src, tgt = PurePosixPath(source.rstrip("/")), PurePosixPath(target)
    return src == tgt or src in tgt.parents


def test_only_controllers_mount_the_signing_key_folder() -> None:
    controllers = {n for n, s in services().items() if is_controller(s)}
    assert controllers == {"controller1", "controller2"}
    readers = {n for n, s in services().items() if any(covers(src, KEYS_DIR) for src in
                                                         bind_sources(s))}  # fmt: skip
    assert readers == controllers


def test_no_container_mounts_the_secrets_root_or_the_ca_key() -> None:
    for name, service in services().items():
        for source in bind_sources(service):
            assert not covers(source, "./secrets/x"), f"{name} mounts every secret: {source}"
            assert "ca.key" not in source, f"{name} mounts the CA private key"


@pytest.mark.parametrize(("service", "folder"), [("emqx1", "./secrets/broker"),
                         ("emqx2", "./secrets/broker"), ("nginx", "./secrets/nginx")])  # fmt: skip
def test_broker_and_nginx_get_only_their_own_tls_files(service: str, folder: str) -> None:
    secret_mounts = [s for s in bind_sources(services()[service]) if s.startswith("./secrets")]
    assert secret_mounts == [folder]


def test_controller_key_paths_lie_in_its_own_mount() -> None:
    env = services()["controller1"]["environment"]
    mounts = [v.split(":") for v in services()["controller1"]["volumes"] if isinstance(v, str)]
    key_mount = next(dst for src, dst, *_ in mounts if src == KEYS_DIR)
    for key in ("LOA_SIGNING_KEY_PATH", "LOA_PANEL_SESSION_KEY_PATH", "LOA_AGENT_TLS_CA"):
        assert env[key].startswith(key_mount + "/"), key


def test_emqx_rights_come_from_the_controller_hooks_and_default_to_deny() -> None:
    for name in ("emqx1", "emqx2"):
        env = services()[name]["environment"]
        assert not any(k.startswith("EMQX_AUTHENTICATION__") for k in env)  # whole array only
        authn, authz = env["EMQX_AUTHENTICATION"], env["EMQX_AUTHORIZATION__SOURCES"]
        assert "backend = http" in authn and "/api/v1/broker/authn" in authn
        assert "type = http" in authz and "/api/v1/broker/authz" in authz
        for hocon in (authn, authz):
            assert "Bearer ${BROKER_HOOK_TOKEN}" in hocon
            # EMQX placeholders escaped from compose interpolation
            assert not re.search(r"(?<!\$)\$\{(username|password|topic|action)\}", hocon)
            assert hocon.count("type =") + hocon.count("mechanism =") == 1  # one source only
        assert env["EMQX_AUTHORIZATION__NO_MATCH"] == "deny"
    assert "BROKER_HOOK_TOKEN=" in (PROD / "env.example").read_text()


def test_nginx_keeps_the_broker_hooks_inside() -> None:
    conf = (PROD / "nginx.conf").read_text()
    block = re.search(r"location /api/v1/broker/ \{([^}]*)\}", conf)
    assert block is not None and "return 404" in block.group(1)
