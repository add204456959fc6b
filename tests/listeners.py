"""A TCP port on loopback that accepts every connection and then says nothing (or only a first
few bytes): a server that hangs, for the tests of what the ledger, the web workspace and the Dask
backend do when a peer goes silent."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def silent_listener(greeting: bytes = b"") -> Iterator[int]:
    """A port of 127.0.0.1 whose every connection is sent `greeting` and nothing more; its
    number. Connections are closed when the block ends."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    accepted: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                conn = server.accept()[0]
            except OSError:  # closed
                return
            if greeting:
                conn.sendall(greeting)
            accepted.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        server.close()
        for conn in accepted:
            conn.close()
        thread.join(5)
