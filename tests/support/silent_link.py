"""A TCP relay whose live connections can die silently: after :meth:`SilentLink.cut` it
stops moving bytes both ways and closes nothing (no FIN, no RST), as when a village's mobile
link drops off the air; new connections are refused until :meth:`SilentLink.restore`, as
when the link comes back."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time

from controller.broker.process import free_port


class SilentLink:
    def __init__(self, target_port: int, host: str = "127.0.0.1") -> None:
        self.target = (host, target_port)
        self.port = free_port()
        self._listener = socket.create_server((host, self.port))
        self._stop = threading.Event()
        self._down = threading.Event()  # set between cut() and restore(): nothing gets through
        self._lock = threading.Lock()
        self._live: list[threading.Event] = []  # one "cut" flag per relayed connection
        self._sockets: list[socket.socket] = []  # kept open until close(): no FIN
        self.refused: list[float] = []  # when connections were refused (monotonic), while down
        threading.Thread(target=self._accept, daemon=True, name="silent-link").start()

    def _accept(self) -> None:
        self._listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._down.is_set():
                self.refused.append(time.monotonic())
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            cut = threading.Event()
            with self._lock:
                self._live.append(cut)
                self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, cut), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket, cut: threading.Event) -> None:
        peer = {a: b, b: a}
        while not cut.is_set() and not self._stop.is_set():
            readable, _, _ = select.select([a, b], [], [], 0.1)
            if cut.is_set():
                return  # silently: whatever arrives now stays in the kernel's buffers
            for sock in readable:
                try:
                    data = sock.recv(65536)
                    if not data:  # a real close on one side: pass it on
                        peer[sock].shutdown(socket.SHUT_WR)
                        return
                    peer[sock].sendall(data)
                except OSError:
                    return

    def cut(self) -> None:
        """Every connection relayed so far goes silent; new ones are refused."""
        self._down.set()
        with self._lock:
            for flag in self._live:
                flag.set()

    def restore(self) -> None:
        """The link is back: new connections are relayed (the silent ones stay silent)."""
        self._down.clear()

    def close(self) -> None:
        self._stop.set()
        self.cut()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.close()
