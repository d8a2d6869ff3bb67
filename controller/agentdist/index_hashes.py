"""SHA-256 of every file the package index publishes for one pinned version (PyPI JSON API)."""

from __future__ import annotations

import httpx

from controller.agentdist.lock import LockError

INDEX_JSON = "https://pypi.org/pypi/{name}/json"


def index_hashes(name: str, version: str, client: httpx.Client) -> set[str]:
    url = INDEX_JSON.format(name=name)
    try:
        resp = client.get(url)
        resp.raise_for_status()
        files = resp.json()["releases"][version]
        hashes = {f["digests"]["sha256"] for f in files}
    except (httpx.HTTPError, KeyError, TypeError, ValueError) as exc:
        raise LockError(f"{url}: {exc}") from None
    if not hashes:
        raise LockError(f"the index has no files for {name}=={version}")
    return hashes
