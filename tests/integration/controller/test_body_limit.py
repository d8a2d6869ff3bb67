"""Hole 3: a big body from anyone is refused before it is read or parsed, in the app.

Runs the real ``loa controller`` (uvicorn) as a child process and reads its memory from
``/proc/<pid>/status``: the peak resident size (VmHWM) must not move while 20 MB bodies
are thrown at it without credentials, declared or streamed in chunks.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.processes import ControllerProcess

from controller.broker.process import MosquittoProcess

pytestmark = pytest.mark.integration

BIG = 20 * 1024 * 1024
CHUNK = 64 * 1024


@pytest.fixture(scope="module")
def controller(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControllerProcess]:
    root = tmp_path_factory.mktemp("limits")
    broker = MosquittoProcess(root / "mosquitto")
    broker.start()
    proc = ControllerProcess(
        root / "ctl",
        broker.port,
        api_anonymous_admin="false",
        upload_max_mb="2",
        http_max_body_kib="256",
        scheduler_enabled="false",
    )
    try:
        proc.start()
        yield proc
    finally:
        proc.stop()
        broker.stop()


def _memory_kib(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def _status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/1.1 ") else 0


def _exchange(port: int, head: str, body_chunks: Iterator[bytes]) -> tuple[bytes, int]:
    """Send ``head`` then as much of the body as the server takes; return its answer and
    how many body bytes went out before it answered or closed."""
    answer = bytearray()
    got_answer = threading.Event()
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:

        def read() -> None:
            try:
                while chunk := sock.recv(65536):
                    answer.extend(chunk)
                    if b"\r\n\r\n" in answer:
                        got_answer.set()
            except OSError:
                pass
            got_answer.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        sock.sendall(head.encode())
        try:
            for chunk in body_chunks:
                if got_answer.is_set():
                    break
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass  # the server closed on us: expected once it has answered
        got_answer.wait(30)
        time.sleep(0.05)
    return bytes(answer), sent


def _json_body() -> Iterator[bytes]:
    yield b"["
    piece = b"0," * (CHUNK // 2)
    for _ in range(BIG // len(piece)):
        yield piece
    yield b"0]"


def _chunked(parts: Iterator[bytes]) -> Iterator[bytes]:
    for part in parts:
        yield f"{len(part):x}\r\n".encode() + part + b"\r\n"
    yield b"0\r\n\r\n"


def test_big_json_bodies_without_credentials_get_413_before_parsing(
    controller: ControllerProcess,
) -> None:
    assert controller.proc is not None
    pid = controller.proc.pid
    before = _memory_kib(pid)
    head = (
        "POST /api/v1/zones HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {BIG + 3}\r\n\r\n"
    )
    started = time.monotonic()
    answer, sent = _exchange(controller.port, head, _json_body())
    assert _status(answer) == 413, answer[:300]
    assert b"limit for this route" in answer
    assert time.monotonic() - started < 5
    assert sent < BIG  # answered long before the body was through

    head = (
        "POST /api/v1/zones HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    answer, sent = _exchange(controller.port, head, _chunked(_json_body()))
    assert _status(answer) == 413, answer[:300]
    assert sent < BIG  # cut off near the 256 KiB limit, not read to the end

    after = _memory_kib(pid)
    print(f"controller memory before {before} after {after} (KiB)")
    assert after["VmHWM"] - before["VmHWM"] < 8 * 1024, (before, after)
    assert after["VmRSS"] - before["VmRSS"] < 8 * 1024, (before, after)
    # the controller is still fine, and a small body still reaches authentication
    small = _exchange(
        controller.port,
        "POST /api/v1/zones HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 2\r\nConnection: close\r\n\r\n{}",
        iter(()),
    )[0]
    assert _status(small) == 401


def test_upload_routes_take_the_upload_limit(controller: ControllerProcess) -> None:
    def post(length: int) -> int:
        head = (
            "POST /api/v1/uploads/audio HTTP/1.1\r\nHost: x\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\n"
            f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
        )
        body = (b"x" * CHUNK for _ in range(length // CHUNK + 1))
        return _status(_exchange(controller.port, head, body)[0])

    assert post(1024 * 1024) != 413  # 1 MB is under the 2 MB upload limit (then 401/422)
    assert post(3 * 1024 * 1024) == 413
