"""A web workspace served on a free loopback port in a background thread, for the tests that
drive it as a browser or a crowd of clients would."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(app: Any, **settings: Any) -> Iterator[str]:
    """Serve `app` (uvicorn, loopback only, with the settings `standoff serve` uses; `settings`:
    more keyword arguments of `server.config`) for the `with` block; yields its base URL."""
    import uvicorn

    from standoff.web.server import config

    port = free_port()
    server = uvicorn.Server(config(app, "127.0.0.1", port, **settings))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "the server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
