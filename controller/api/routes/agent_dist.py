"""``/agent/``: the agent distribution for nodes (installer, signed manifest, files).

Public: nodes need no login, nothing here is secret, and everything a node
runs is checked against the signed manifest (the installer also pins the signing key from
the enrolment token), so serving it to anyone gives nobody control of a node.
"""

from __future__ import annotations

from importlib.metadata import version as package_version
from pathlib import Path

from fastapi import APIRouter, HTTPException, Response, status
from fastapi.responses import FileResponse

from controller.agentdist.store import INSTALLER, AgentDist, DistNotFound
from controller.api.deps import ControllerDep
from controller.services.container import Controller

router = APIRouter(prefix="/agent", tags=["agent distribution"])
NOT_FOUND: dict[int | str, dict[str, object]] = {404: {}}


def _dist(ctl: Controller) -> AgentDist:
    if ctl.agent_dist is None:
        ctl.agent_dist = AgentDist(ctl.settings.resolved_agent_dist_dir)
    return ctl.agent_dist


def default_version(ctl: Controller) -> str:
    """The release this controller hands out by default: its own version unless configured
    (the package's version, which the agent's ``agent/_version.py`` carries too)."""
    return ctl.settings.agent_dist_version or package_version("loaxa")


def _send(data: bytes | Path, media_type: str) -> Response:
    if isinstance(data, Path):
        return FileResponse(data, media_type=media_type)
    return Response(data, media_type=media_type)


def _not_found(exc: DistNotFound) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, str(exc))


@router.get("/install.sh", response_class=Response, responses=NOT_FOUND)
def installer(ctl: ControllerDep) -> Response:
    try:
        return _send(_dist(ctl).file(default_version(ctl), INSTALLER), "text/x-shellscript")
    except DistNotFound as exc:
        raise _not_found(exc) from None


@router.get("/manifest.json", response_class=Response, responses=NOT_FOUND)
def manifest(ctl: ControllerDep) -> Response:
    return versioned_manifest(default_version(ctl), ctl)


@router.get("/versions")
def versions(ctl: ControllerDep) -> dict[str, object]:
    return {"default": default_version(ctl), "versions": _dist(ctl).versions()}


@router.get("/{version}/manifest.json", response_class=Response, responses=NOT_FOUND)
def versioned_manifest(version: str, ctl: ControllerDep) -> Response:
    try:
        signed = _dist(ctl).manifest(version, ctl.signer, ctl.clock.now())
    except DistNotFound as exc:
        raise _not_found(exc) from None
    return Response(signed, media_type="application/json")


@router.get("/files/{version}/{name}", response_class=Response, responses=NOT_FOUND)
def release_file(version: str, name: str, ctl: ControllerDep) -> Response:
    try:
        return _send(_dist(ctl).file(version, name), "application/octet-stream")
    except DistNotFound as exc:
        raise _not_found(exc) from None


@router.get("/wheels/{name}", response_class=FileResponse, responses=NOT_FOUND)
def offline_wheel(name: str, ctl: ControllerDep) -> Response:
    try:
        return FileResponse(_dist(ctl).wheel(name), media_type="application/octet-stream")
    except DistNotFound as exc:
        raise _not_found(exc) from None
