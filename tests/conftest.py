"""Shared fixtures: real servers on free loopback ports, always stopped afterwards."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from controller.broker.process import MosquittoProcess

# In-process controllers built by tests read LOA_* from the environment: let tests call the
# JSON API without a token. The default is closed (see test_api_requires_auth_by_default).
os.environ["LOA_API_ANONYMOUS_ADMIN"] = "true"


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[MosquittoProcess]:
    """A private Mosquitto (anonymous, persistence on) on 127.0.0.1:<free port>."""
    broker = MosquittoProcess(tmp_path / "mosquitto")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="module")
def module_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoProcess]:
    """One private Mosquitto for a whole test module (for module-scoped controllers)."""
    broker = MosquittoProcess(tmp_path_factory.mktemp("mosquitto"))
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


# -- PostgreSQL: a second pass of the DB-backed tests (LOA_TEST_POSTGRES=1) -----------------
#
# One Debian PostgreSQL cluster per session on a free loopback port in a temp dir (run as the
# `postgres` user when we are root: the server refuses to run as root), and a fresh database
# per test made from template0. Tests see it as LOA_DATABASE_URL, like production does.


def _pg_bin(name: str) -> str:
    import glob
    import shutil

    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    path = found[-1] if found else shutil.which(name)
    if not path:
        pytest.skip(f"PostgreSQL {name} not installed (apt-get install postgresql)")
    return path


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """Start a throwaway cluster; yield its admin URL (database ``postgres``)."""
    import pwd
    import shutil
    import subprocess
    import tempfile

    from controller.broker.process import free_port

    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    user = "postgres" if as_root else pwd.getpwuid(os.geteuid()).pw_name
    root = Path(tempfile.mkdtemp(prefix="loa-pg-"))
    data = root / "data"
    if as_root:
        shutil.chown(root, "postgres", "postgres")
    port = free_port()
    subprocess.run(
        [*prefix, _pg_bin("initdb"), "-D", str(data), "-U", user, "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off"
    subprocess.run(
        [*prefix, _pg_bin("pg_ctl"), "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w",
         "start"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    try:
        yield f"postgresql+psycopg://{user}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*prefix, _pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def _fresh_postgres_database(server: str) -> Iterator[str]:
    """A fresh, empty database on the test cluster; dropped afterwards."""
    from support.postgres import create_database, drop_database

    url = create_database(server)
    try:
        yield url
    finally:
        drop_database(server, url)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database for one test; dropped afterwards."""
    with _fresh_postgres_database(postgres_server) as url:
        yield url


def _use_database(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """Controllers made from here on, in process or as child processes, use ``url``."""
    monkeypatch.setenv("LOA_DATABASE_URL", url)
    try:
        import support.processes as processes
    except ImportError:
        return
    clean = processes._clean_env

    def keep_database(extra: dict[str, str]) -> dict[str, str]:
        return {**clean(extra), "LOA_DATABASE_URL": url, **extra}

    monkeypatch.setattr(processes, "_clean_env", keep_database)


@pytest.fixture(scope="module", autouse=True)
def _module_database_backend(request: pytest.FixtureRequest) -> Iterator[None]:
    """With LOA_TEST_POSTGRES=1 a module's shared controller (a module-scoped app, built
    before any test's own fixtures) gets a PostgreSQL database of its own too; without this
    it silently ran on SQLite in the PostgreSQL pass."""
    if os.environ.get("LOA_TEST_POSTGRES") != "1":
        yield
        return
    server = request.getfixturevalue("postgres_server")
    with _fresh_postgres_database(server) as url, pytest.MonkeyPatch.context() as patch:
        _use_database(patch, url)
        yield


@pytest.fixture(autouse=True)
def _database_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """With LOA_TEST_POSTGRES=1 every test's controller (in-process or child process) uses a
    fresh PostgreSQL database instead of the SQLite file in its data dir."""
    if os.environ.get("LOA_TEST_POSTGRES") != "1":
        return
    _use_database(monkeypatch, request.getfixturevalue("postgres_url"))
