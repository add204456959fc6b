"""How the workspace is served: every setting of uvicorn in one place.

    config(app, host, port) -> uvicorn.Config

used by `standoff serve` and by the tests that start a real server, so both run with the same
bounds:

- Connections. At most `limit_concurrency` connections and requests at once, below the process's
  limit of open files (`resource.getrlimit(RLIMIT_NOFILE)`) by the listening backlog (asyncio
  accepts up to that many connections at a time before any is looked at) and a reserve for the
  server's own files, so it does not run out of descriptors. A connection over the limit is
  answered 503 with `Retry-After` and closed as soon as it is accepted; a request over it gets
  uvicorn's 503.
- Slow clients. uvicorn bounds only the wait between two requests of a connection
  (`timeout_keep_alive`), not the reading of a request, so two guards are added here: a
  connection whose request line and headers have not all arrived within `header_seconds` of its
  first byte (or of being opened) is closed (`Guarded`, a subclass of uvicorn's h11 protocol),
  and a request whose body has not all arrived within `body_seconds` is answered 408 and closed
  (`ReadTimeout`, around the app). h11 refuses a request line and headers over 16 KiB.
- Logs. A refused accept (no descriptor left) or an overload is one short line, at most one every
  LOG_EVERY seconds with the count since the last, never a traceback per connection.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from typing import Any

import h11
import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_SECONDS = 10.0
BODY_SECONDS = 30.0
KEEP_ALIVE_SECONDS = 5
MAX_HEADER_BYTES = 16 * 1024
LOG_EVERY = 10.0
RETRY_AFTER = 5


def connection_limits(files: int | None = None) -> tuple[int, int]:
    """(the most connections served at once, the listening backlog) for a process that may open
    `files` files (None: its limit now): the connections, plus a backlog's worth accepted at once,
    plus a reserve for the cases, the ledger and the log, stay within it."""
    if files is None:
        files = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if files == resource.RLIM_INFINITY or files <= 0:
        files = 65536
    backlog = max(16, min(128, files // 8))
    return max(8, min(4096, files - backlog - max(32, files // 8))), backlog


class Guarded(H11Protocol):
    """uvicorn's h11 protocol with two bounds of its own: a connection over `limit` is answered
    503 and closed at once (its descriptor is freed, no request is read), and a connection whose
    request line and headers are not complete within `header_seconds` is closed."""

    header_seconds = HEADER_SECONDS
    limit = 1024

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._header_timer: asyncio.TimerHandle | None = None
        self._refused = False
        super().connection_made(transport)
        if len(self.connections) > self.limit:
            self._refused = True
            body = b"the server has too many connections open; try again shortly\n"
            transport.write(
                b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
                b"retry-after: %d\r\nconnection: close\r\ncontent-length: %d\r\n\r\n%s"
                % (RETRY_AFTER, len(body), body)
            )
            transport.close()
            logging.getLogger("uvicorn.error").warning(
                "refused a connection: %d connections are open", len(self.connections)
            )
            return
        self._watch()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        super().data_received(data)
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_watching()
        super().connection_lost(exc)

    def _watch(self) -> None:
        """Wait at most `header_seconds` for a request line and headers still to come."""
        waiting = self.conn.their_state is h11.IDLE and not self.transport.is_closing()
        if waiting and self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_seconds, self._too_slow)
        elif not waiting:
            self._stop_watching()

    def _stop_watching(self) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.write(
                b"HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"
            )
            self.transport.close()


class ReadTimeout:
    """Answer 408 and close a request whose body has not all arrived within `seconds` of the
    first read (the app is then told the client has gone)."""

    def __init__(self, app: ASGIApp, seconds: float):
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        until: float | None = None
        reading = True
        started = timed_out = False

        async def timed() -> Message:
            nonlocal until, reading, timed_out
            if not reading:
                return await receive()
            if timed_out:
                return {"type": "http.disconnect"}
            now = time.monotonic()
            until = until or now + self.seconds
            try:
                message = await asyncio.wait_for(receive(), max(until - now, 0.0))
            except TimeoutError:
                timed_out = True
                if not started:
                    text = b"the request body did not arrive in time\n"
                    await send({"type": "http.response.start", "status": 408, "headers": [
                        (b"content-type", b"text/plain; charset=utf-8"),
                        (b"content-length", str(len(text)).encode()), (b"connection", b"close"),
                    ]})  # fmt: skip
                    await send({"type": "http.response.body", "body": text})
                return {"type": "http.disconnect"}
            reading = message["type"] == "http.request" and bool(message.get("more_body"))
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if timed_out:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, timed, tracked)
        except Exception:
            if not timed_out:
                raise


class OneLine(logging.Filter):
    """Turns the records of refused accepts and overloads into one line each LOG_EVERY seconds
    (with the count since the last), without their tracebacks."""

    KINDS = (
        ("out of system resource", "refused connections: no file descriptor left"),
        ("Exceeded concurrency limit", "refused requests: too many at once"),
        ("refused a connection", "refused connections: too many open"),
        ("Invalid HTTP request", "refused invalid HTTP requests"),
    )

    def __init__(self) -> None:
        super().__init__()
        self.last: dict[str, float] = {}
        self.count: dict[str, int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        kind = next((line for key, line in self.KINDS if key in message), None)
        if kind is None:
            return True
        now = time.monotonic()
        self.count[kind] = self.count.get(kind, 0) + 1
        if now - self.last.get(kind, -LOG_EVERY) < LOG_EVERY:
            return False
        self.last[kind] = now
        record.msg = f"{kind} ({self.count.pop(kind)} since the last notice)"
        record.args = ()
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True


ONE_LINE = OneLine()


def quiet_overloads() -> None:
    """Put OneLine on the loggers that report refused accepts (asyncio) and overloads
    (uvicorn)."""
    for name in ("asyncio", "uvicorn.error"):
        logger = logging.getLogger(name)
        if ONE_LINE not in logger.filters:
            logger.addFilter(ONE_LINE)


def config(
    app: Any,
    host: str,
    port: int,
    *,
    header_seconds: float = HEADER_SECONDS,
    body_seconds: float = BODY_SECONDS,
    log_level: str = "warning",
) -> uvicorn.Config:
    """uvicorn's settings for the workspace `app` on `host`:`port` (see the module's
    docstring)."""
    limit, backlog = connection_limits()
    protocol = type("Guarded", (Guarded,), {"header_seconds": header_seconds, "limit": limit})
    settings = uvicorn.Config(
        ReadTimeout(app, body_seconds), host=host, port=port, log_level=log_level,
        http=protocol, timeout_keep_alive=KEEP_ALIVE_SECONDS, limit_concurrency=limit,
        backlog=backlog, h11_max_incomplete_event_size=MAX_HEADER_BYTES,
    )  # fmt: skip
    quiet_overloads()
    return settings
