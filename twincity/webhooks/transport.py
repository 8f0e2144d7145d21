"""The one place a webhook leaves the platform: an HTTP POST with a timeout, no redirects followed, and a light
guard against server-side request forgery (http/https only; outside development no private, loopback or
link-local address unless settings.WEBHOOK_ALLOW_PRIVATE). Tests patch or point this at a local server."""

import http.client
import ipaddress
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

EXCERPT_CHARS = 1000
USER_AGENT = "twincity-webhooks/1"


class WebhookAttemptFailed(Exception):  # noqa: N818 — what the task's record shows
    """An attempt got no 2xx answer; the delivery task tries again after its backoff."""


@dataclass(frozen=True)
class PostResult:
    status_code: int | None  # None: no HTTP answer (refused, timed out, blocked)
    error: str
    excerpt: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _address_refusal(address: str) -> str | None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if not ip.is_global or ip.is_multicast:
        return f"地址 {ip} 不是公网地址 (the address {ip} is not public)"
    return None


def url_refusal(url: str, *, resolve: bool) -> str | None:
    """Why `url` may not receive webhooks, or None. With `resolve`, the host's addresses are looked up and each
    checked (done before every request); without, only a literal address or "localhost" is (when it is saved)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "URL无效 (invalid URL)"
    if parts.scheme not in ("http", "https"):
        return "只接受 http 或 https 地址 (http or https only)"
    host = parts.hostname
    if not host:
        return "URL缺少主机名 (the URL has no host)"
    if parts.username or parts.password:
        return "URL中不能包含用户名或密码 (no credentials in the URL)"
    if settings.WEBHOOK_ALLOW_PRIVATE:
        return None
    if host == "localhost" or host.endswith(".localhost"):
        return "不接受本机地址 (localhost is not allowed)"
    try:
        return _address_refusal(host)
    except ValueError:
        pass  # a name, not an address
    if not resolve:
        return None
    try:
        infos = socket.getaddrinfo(host, port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM)
    except OSError as exc:
        return f"无法解析主机名 (cannot resolve {host}): {exc}"
    for info in infos:
        refusal = _address_refusal(str(info[4][0]))
        if refusal:
            return refusal
    return None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a 3xx is the endpoint's answer: not delivered (and never followed to another host)


_opener = urllib.request.build_opener(_NoRedirects)


def _excerpt(raw: bytes) -> str:
    return raw[: EXCERPT_CHARS * 4].decode("utf-8", errors="replace")[:EXCERPT_CHARS]


def post(url: str, body: bytes, headers: dict[str, str]) -> PostResult:
    """POST `body` to `url`: the status and the start of the answer, or the error; never raises for the network."""
    refusal = url_refusal(url, resolve=True)
    if refusal:
        return PostResult(None, refusal, "", 0)
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8",
                                              "User-Agent": USER_AGENT, **headers})
    started = time.monotonic()
    try:
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            status, raw = response.status, response.read(EXCERPT_CHARS * 4)
        error = ""
    except urllib.error.HTTPError as exc:  # an answer, but not 2xx
        status, raw, error = exc.code, (exc.read(EXCERPT_CHARS * 4) if exc.fp else b""), f"HTTP {exc.code}"
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:  # refused, reset, timed out, bad TLS
        reason = getattr(exc, "reason", exc)
        return PostResult(None, f"{type(exc).__name__}: {reason}"[:2000], "",
                          int((time.monotonic() - started) * 1000))
    duration = int((time.monotonic() - started) * 1000)
    if not 200 <= status < 300 and not error:
        error = f"HTTP {status}"
    return PostResult(status, error, _excerpt(raw), duration)
