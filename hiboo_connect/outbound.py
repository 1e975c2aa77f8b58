"""The one way out: calls the share centre makes to other organisations' servers (OEM telematics feeds, webhook
receivers). Every such call needs the same guards, so they live here once:

- the target is http(s) and, unless the deployment allows it (OUTBOUND_ALLOW_PRIVATE_TARGETS, on under `make run`),
  not on a private, loopback, link-local or otherwise non-public address: a URL typed by a customer must not reach the
  deployment's own network. The address checked is the address connected to (no second DNS answer in between);
- a deadline for the whole exchange, so a slow or dripping server never holds a worker;
- a cap on the body read, and no redirects followed (a redirect could lead anywhere; the caller sees the 3xx).

An answer with any status is returned; only a refused target, a time-out, a failed connection or an oversized body
raise OutboundError, whose message says why in the user's language."""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_URL_LENGTH = 2000
_CHUNK = 64 * 1024


class OutboundError(Exception):
    """A call that did not get an answer: `code` for programs (refused, timeout, unreachable, too_large), `message`
    for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class OutboundResponse:
    status: int
    #: Header names in lower case; repeated headers joined with ", ".
    headers: dict[str, str]
    body: bytes
    #: Seconds from the first connection attempt to the last byte read.
    elapsed: float


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


def _address_refusal(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def _resolve(url: str) -> _Target:
    """Check the URL and pick the address to connect to, or raise OutboundError("refused", why)."""
    if len(url) > MAX_URL_LENGTH:
        raise OutboundError(
            "refused", _("The address is longer than %(limit)d characters.") % {"limit": MAX_URL_LENGTH}
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise OutboundError("refused", _("This is not a valid web address.")) from None
    if parts.scheme not in ("http", "https"):
        raise OutboundError("refused", _("The address must start with http:// or https://."))
    if not parts.hostname:
        raise OutboundError("refused", _("The address has no host name."))
    if parts.username is not None or parts.password is not None:
        raise OutboundError("refused", _("Put credentials in the authentication settings, not in the address."))
    host = parts.hostname
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise OutboundError("refused", _("The host name %(host)s could not be found.") % {"host": host}) from None
    addresses = [str(answer[4][0]) for answer in answers]
    allow_private = settings.OUTBOUND_ALLOW_PRIVATE_TARGETS
    if not allow_private and any(_address_refusal(address) for address in addresses):
        raise OutboundError(
            "refused",
            _("%(host)s is on a private or local network, which this deployment does not allow.") % {"host": host},
        )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return _Target(scheme=parts.scheme, host=host, port=port, path=path, address=addresses[0])


def target_refusal(url: str) -> str | None:
    """Why a call to this URL would be refused (in the user's language), or None. For forms and APIs that store a
    URL to call later; the call itself checks again, since DNS answers change."""
    try:
        _resolve(url)
    except OutboundError as error:
        return error.message
    return None


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, whatever DNS answers now."""

    def __init__(self, target: _Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address
        #: The connected socket, kept here because http.client forgets it once an answer says it closes.
        self.opened: socket.socket | None = None

    def connect(self):
        self.sock = self.opened = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: _Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._address = target.address
        self.opened: socket.socket | None = None

    def connect(self):
        sock = self.opened = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def request(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> OutboundResponse:
    """Send one HTTP request and read the whole answer within `timeout` seconds: a watchdog cuts the connection at the
    deadline, so a server dripping its answer byte by byte cannot stretch it."""
    target = _resolve(url)
    started = time.monotonic()
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, timeout)
    watchdog = _Watchdog(connection, timeout)
    try:
        connection.request(method, target.path, body=body, headers=headers or {})
        response = connection.getresponse()
        chunks: list[bytes] = []
        size = 0
        while chunk := response.read1(_CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise OutboundError("too_large", _("The answer is larger than %(limit)d bytes.") % {"limit": max_bytes})
            chunks.append(chunk)
        if watchdog.fired:
            raise TimeoutError
        answer_headers: dict[str, str] = {}
        for name, value in response.getheaders():
            key = name.lower()
            answer_headers[key] = f"{answer_headers[key]}, {value}" if key in answer_headers else value
        return OutboundResponse(
            status=response.status, headers=answer_headers, body=b"".join(chunks), elapsed=time.monotonic() - started
        )
    except (OSError, http.client.HTTPException) as error:
        if watchdog.fired or isinstance(error, TimeoutError):
            raise OutboundError(
                "timeout",
                _("%(host)s did not answer within %(seconds)g seconds.") % {"host": target.host, "seconds": timeout},
            ) from None
        raise OutboundError(
            "unreachable", _("%(host)s could not be reached (%(error)s).") % {"host": target.host, "error": error}
        ) from None
    finally:
        watchdog.cancel()
        connection.close()


class _Watchdog:
    """Shuts the connection's socket down when the deadline passes; the blocked read then fails at once."""

    def __init__(self, connection: _PinnedHTTPConnection | _PinnedHTTPSConnection, seconds: float):
        self.fired = False
        self._connection = connection
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        sock = self._connection.opened
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()
