"""A TCP proxy on 127.0.0.1 in front of the test PostgreSQL server, to make it fail on
purpose without touching the server the other tests share: ``freeze()`` keeps every
connection open but passes no more bytes (a server that stops answering), ``cut()`` closes
every connection and refuses new ones (a server that goes away), ``restore()`` passes bytes
again."""

from __future__ import annotations

import selectors
import socket
import threading
from types import TracebackType


class Proxy:
    def __init__(self, host: str = "127.0.0.1", port: int = 5432) -> None:
        self.target = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._pairs: dict[socket.socket, socket.socket] = {}
        self._lock = threading.Lock()
        self._frozen = threading.Event()
        self._refusing = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        """``path`` (``postgresql://user@host:port/db?...``) sent through the proxy."""
        rest = path.split("@", 1)[1].split("/", 1)[1]
        user = path.split("://", 1)[1].split("@", 1)[0]
        return f"postgresql://{user}@127.0.0.1:{self.port}/{rest}"

    def freeze(self) -> None:
        self._frozen.set()

    def cut(self) -> None:
        self._refusing.set()
        with self._lock:
            for one in list(self._pairs):
                one.close()
            self._pairs.clear()

    def restore(self) -> None:
        self._refusing.clear()
        self._frozen.clear()

    def close(self) -> None:
        self._stopped.set()
        self._thread.join(5)
        self.cut()
        self._listener.close()

    def __enter__(self) -> Proxy:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        self._listener.setblocking(False)
        selector.register(self._listener, selectors.EVENT_READ)
        registered: set[socket.socket] = set()
        while not self._stopped.is_set():
            with self._lock:
                live = set(self._pairs)
            for gone in registered - live:
                selector.unregister(gone)
            for new in live - registered:
                selector.register(new, selectors.EVENT_READ)
            registered = live
            if self._frozen.is_set():
                for one in registered:
                    selector.unregister(one)
                registered = set()
            for key, _ in selector.select(0.05):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if sock is self._listener:
                    self._accept()
                    continue
                self._forward(sock)

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except BlockingIOError:
            return
        if self._refusing.is_set():
            client.close()
            return
        client.settimeout(5)
        try:
            server = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        with self._lock:
            self._pairs[client], self._pairs[server] = server, client

    def _forward(self, sock: socket.socket) -> None:
        with self._lock:
            other = self._pairs.get(sock)
        try:
            data = sock.recv(65536) if other is not None else b""
            if data and other is not None:
                other.sendall(data)
                return
        except OSError:
            pass
        with self._lock:
            for one in (sock, other):
                if one is not None and one in self._pairs:
                    self._pairs.pop(one, None)
                    one.close()
