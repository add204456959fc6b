"""Who may talk to the workspace: one ASGI middleware that refuses what other web sites send.

    Guard(app, token=TOKEN or None, allowed_hosts=NAMES or None, pages=JINJA_ENV)

A web page the user visits can make the browser send requests to 127.0.0.1; the guard refuses
them with 403 and one message (JSON for the API and for clients that do not ask for HTML, a short
page otherwise). Its checks, in order:

1. Host. The Host header must name one of `allowed_hosts` (None: any name). A site whose name is
   re-pointed at 127.0.0.1 (DNS rebinding) reaches the server under its own name, so it is
   refused here.
2. Token. With a `token`, every request but the static files must show it: the cookie that
   opening `/?token=TOKEN` sets (HttpOnly, SameSite=Strict; the page then redirects to its URL
   without the token), `Authorization: token TOKEN`, or `?token=TOKEN`. Compared in constant
   time. None: no token is asked for.
3. Origin. A request that changes something (POST, PUT, PATCH, DELETE) whose Origin is not the
   Host's own (or, without an Origin, whose `Sec-Fetch-Site` is `cross-site` or `same-site`).
4. Header. The same requests must carry `X-Standoff` or a JSON content type: a browser sends
   neither across sites without asking first (a CORS preflight, which the workspace never
   grants), so no plain form or `fetch` of another site can change anything.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import jinja2
from starlette.requests import cookie_parser
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
ALL_INTERFACES = ("0.0.0.0", "::")
CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HEADER = "X-Standoff"
TOKEN_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._~-")
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
NEEDS_TOKEN = (
    "this workspace needs its token: open the URL that standoff serve printed "
    "(it ends in ?token=...), or send the header 'Authorization: token TOKEN'"
)


def new_token() -> str:
    """A fresh random token (48 hex digits) for one start of the workspace."""
    return secrets.token_hex(24)


def token_problem(token: str) -> str | None:
    """What is wrong with a token given by the user, or None: it goes into URLs and a cookie,
    so it is made of letters, digits and `._~-` only."""
    if not token:
        return "the token is empty"
    if not set(token) <= TOKEN_CHARACTERS:
        return "the token may hold only letters, digits and . _ ~ -"
    return None


def host_name(name: str) -> str:
    """A host name as the Host header compares it: lower case, an IPv6 address without brackets."""
    name = name.strip().lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    return name


def host_problem(name: str) -> str | None:
    """What is wrong with a name for `--allow-host`, or None."""
    bare = host_name(name)
    if not bare:
        return "the name is empty"
    try:
        ipaddress.ip_address(bare)
        return None
    except ValueError:
        pass
    if any(c in bare for c in "/:@?#* \t"):
        return "give a host name or an address only (no scheme, port or path)"
    return None


def is_loopback(address: str) -> bool:
    """Whether listening on `address` keeps the server to this machine."""
    bare = host_name(address)
    if bare == "localhost":
        return True
    try:
        return ipaddress.ip_address(bare).is_loopback
    except ValueError:
        return False


def allowed_hosts(bound: str, extra: Iterable[str] = ()) -> tuple[str, ...] | None:
    """The Host names a server listening on `bound` answers to: the address itself, the loopback
    names and `extra`. Listening on all interfaces (0.0.0.0, ::) the names cannot be known: None
    (any name, the token is what protects) unless `extra` names some."""
    names = [host_name(n) for n in extra]
    if host_name(bound) in ALL_INTERFACES and not names:
        return None
    if host_name(bound) not in ALL_INTERFACES:
        names.insert(0, host_name(bound))
    return tuple(dict.fromkeys([*names, *LOOPBACK_NAMES]))


def _split(netloc: str, scheme: str) -> tuple[str, int] | None:
    """(name, port) of a `host[:port]`, the scheme's port when none is given; None if malformed."""
    try:
        parts = urlsplit(f"//{netloc}")
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname or parts.username is not None or parts.path or parts.query:
        return None
    return host_name(parts.hostname), port or DEFAULT_PORTS.get(scheme, 80)


class Guard:
    """Refuse requests from other web sites (see the module's docstring for the checks)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str | None,
        allowed_hosts: Iterable[str] | None,
        pages: jinja2.Environment | None = None,
    ):
        if token is not None and (problem := token_problem(token)):
            raise ValueError(problem)
        self.app = app
        self.token = token.encode() if token is not None else None
        self.hosts = None if allowed_hosts is None else {host_name(n) for n in allowed_hosts}
        self.pages = pages

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: dict[str, str] = {}
        for name, value in scope.get("headers", []):
            headers.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
        scheme = str(scope.get("scheme", "http"))
        host = _split(headers["host"], scheme) if "host" in headers else None
        method = str(scope["method"]).upper()
        path = str(scope.get("path", "/"))

        refusal = self._host(headers, host)
        if refusal is None and self.token is not None and not path.startswith("/static/"):
            shown = self._shown_tokens(scope, headers)
            if not shown:
                refusal = NEEDS_TOKEN
            elif not any(hmac.compare_digest(t.encode(), self.token) for t in shown):
                refusal = f"the token does not match: {NEEDS_TOKEN}"
            elif method in ("GET", "HEAD") and not path.startswith("/api/"):
                query = _query(scope)
                if any(name == "token" for name, _ in query):
                    await self._signed_in(scope, query)(scope, receive, send)
                    return
        if refusal is None and method in CHANGING:
            refusal = _foreign(method, headers, host, scheme) or _unmarked(method, headers)
        if refusal is not None:
            await self._refuse(scope, headers, refusal)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _host(self, headers: dict[str, str], host: tuple[str, int] | None) -> str | None:
        if self.hosts is None:
            return None
        if "host" not in headers:
            return "the request names no Host"
        if host is None:
            return f"the Host {headers['host']!r} is not a host name"
        if host[0] not in self.hosts:
            return (
                f"the Host {host[0]!r} is not a name of this workspace (it answers to "
                f"{', '.join(sorted(self.hosts))}; standoff serve --allow-host NAME adds one)"
            )
        return None

    def _shown_tokens(self, scope: Scope, headers: dict[str, str]) -> list[str]:
        shown = [value for name, value in _query(scope) if name == "token"]
        scheme, _, credential = headers.get("authorization", "").strip().partition(" ")
        if scheme.lower() in ("token", "bearer") and credential.strip():
            shown.append(credential.strip())
        cookie = cookie_parser(headers.get("cookie", "")).get(cookie_name(scope))
        if cookie:
            shown.append(cookie)
        return shown

    def _signed_in(self, scope: Scope, query: list[tuple[str, str]]) -> Response:
        """The redirect that drops the token from the URL, setting the cookie that stands in for
        it from then on."""
        assert self.token is not None
        raw = scope.get("raw_path") or quote(str(scope.get("path", "/"))).encode()
        rest = urlencode([(k, v) for k, v in query if k != "token"])
        target = raw.decode("latin-1") + (f"?{rest}" if rest else "")
        if not target.startswith("/") or target[1:2] in ("/", "\\"):  # never off to a host
            target = "/"
        reply = RedirectResponse(target, status_code=303)
        reply.set_cookie(
            cookie_name(scope), self.token.decode(), httponly=True, samesite="strict",
            secure=scope.get("scheme") == "https", path="/",
        )  # fmt: skip
        reply.headers["cache-control"] = "no-store"
        reply.headers["referrer-policy"] = "no-referrer"
        return reply

    def _refuse(self, scope: Scope, headers: dict[str, str], message: str) -> Response:
        path = str(scope.get("path", "/"))
        html = (
            self.pages is not None
            and not path.startswith("/api/")
            and "text/html" in headers.get("accept", "")
        )
        if html and self.pages is not None:
            body = self.pages.get_template("refused.html").render(
                message=message, needs_token=message.endswith(NEEDS_TOKEN)
            )
            return HTMLResponse(body, status_code=403, headers={"cache-control": "no-store"})
        return JSONResponse({"detail": message}, status_code=403)


def cookie_name(scope: Scope) -> str:
    """The cookie that holds the token: named for the server's port, since a browser shares
    cookies between the ports of one host."""
    server = scope.get("server")
    port = server[1] if server and len(server) > 1 and server[1] else None
    return f"standoff-token-{port}" if port else "standoff-token"


def _query(scope: Scope) -> list[tuple[str, str]]:
    raw = scope.get("query_string", b"").decode("latin-1")
    return parse_qsl(raw, keep_blank_values=True)


def _foreign(
    method: str, headers: dict[str, str], host: tuple[str, int] | None, scheme: str
) -> str | None:
    """Why a state-changing request comes from another site, or None."""
    origin = headers.get("origin")
    if origin is not None:
        parts = urlsplit(origin.strip())
        at = _split(parts.netloc, parts.scheme) if parts.scheme and parts.netloc else None
        if at is None or host is None or at != host:
            return f"a {method} from another site ({origin.strip() or 'no origin'}) is refused"
        return None
    site = headers.get("sec-fetch-site", "").strip().lower()
    if site in ("cross-site", "same-site"):
        return f"a {method} from another site (Sec-Fetch-Site: {site}) is refused"
    return None


def _unmarked(method: str, headers: dict[str, str]) -> str | None:
    """Why a state-changing request could have come from another site's plain form or fetch
    (neither the X-Standoff header nor a JSON content type), or None."""
    if headers.get(HEADER.lower(), "").strip():
        return None
    media = headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return None
    return (
        f"a {method} must carry the header '{HEADER}: 1' or a JSON body "
        "(Content-Type: application/json), which no other web site can send"
    )
