"""The one way out (hiboo_connect/outbound.py) against a real HTTP server on a local port: what it returns, what it
refuses and why, and that a slow, large or absent server costs a bounded time. DNS answers are the only thing faked
(the machines have no resolver for public names): getaddrinfo is outside the product."""

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import translation

from hiboo_connect import outbound
from tests.services import free_port


class Handler(BaseHTTPRequestHandler):
    received: list[tuple[str, str, dict, bytes]] = []

    def log_message(self, *args):
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.received.append((self.command, self.path, dict(self.headers), body))
        if self.path == "/gone":
            self.send_response(410)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:1/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/large":
            self.send_response(200)
            self.send_header("Content-Length", str(300_000))
            self.end_headers()
            self.wfile.write(b"x" * 300_000)
        elif self.path == "/drip":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            for _ in range(100):
                try:
                    self.wfile.write(b".")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.05)
        else:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Seen", "one")
            self.send_header("X-Seen", "two")
            answer = b'{"ok": true}'
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    do_GET = do_POST = _answer


@pytest.fixture
def server():
    Handler.received = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_an_answer_comes_back_whole_with_its_status_headers_and_time(server):
    response = outbound.request(
        "POST", f"{server}/hook?x=1", headers={"Content-Type": "application/json"}, body=b'{"a": 1}', timeout=5
    )
    assert (response.status, response.body) == (200, b'{"ok": true}')
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-seen"] == "one, two"
    assert 0 < response.elapsed < 5
    [(method, path, headers, body)] = Handler.received
    assert (method, path, body, headers["Content-Type"]) == ("POST", "/hook?x=1", b'{"a": 1}', "application/json")


def test_an_error_status_is_an_answer_and_a_redirect_is_not_followed(server):
    assert outbound.request("GET", f"{server}/gone", timeout=5).status == 410
    moved = outbound.request("GET", f"{server}/moved", timeout=5)
    assert (moved.status, moved.headers["location"]) == (302, "http://127.0.0.1:1/elsewhere")
    assert [path for _method, path, _headers, _body in Handler.received] == ["/gone", "/moved"]


def test_a_body_over_the_cap_is_refused(server):
    with pytest.raises(outbound.OutboundError) as refused:
        outbound.request("GET", f"{server}/large", timeout=5, max_bytes=100_000)
    assert refused.value.code == "too_large"
    assert "100000" in refused.value.message


def test_a_dripping_server_is_cut_at_the_deadline(server):
    started = time.monotonic()
    with pytest.raises(outbound.OutboundError) as timed_out:
        outbound.request("GET", f"{server}/drip", timeout=0.5)
    assert timed_out.value.code == "timeout"
    assert "0.5" in timed_out.value.message
    assert time.monotonic() - started < 3  # the drip alone would take 5 s


def test_a_server_that_is_not_there_is_unreachable():
    with pytest.raises(outbound.OutboundError) as unreachable:
        outbound.request("GET", f"http://127.0.0.1:{free_port()}/", timeout=2)
    assert unreachable.value.code == "unreachable"
    assert "127.0.0.1 could not be reached" in unreachable.value.message


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://feeds.example.com/", "must start with http:// or https://"),
        ("http:///path", "has no host name"),
        ("http://user:secret@feeds.example.com/", "not in the address"),
        ("http://feeds.example.com:99999/", "not a valid web address"),
        ("http://[::1/", "not a valid web address"),
        ("https://feeds.example.com/" + "a" * 2000, "longer than 2000 characters"),
    ],
)
def test_addresses_that_are_not_web_addresses_are_refused(url, why):
    assert why in outbound.target_refusal(url)


@pytest.fixture
def dns(monkeypatch):
    """Public names resolve as the test says; everything else as the system does (loopback, literal addresses)."""
    answers: dict[str, list[str]] = {}
    system = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            if not answers[host]:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in answers[host]]
        return system(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "::1",
        "fd00::1",
        "::ffff:10.0.0.1",
        "224.0.0.1",
        "0.0.0.0",
    ],
)
def test_private_and_local_targets_are_refused_unless_the_deployment_allows_them(settings, dns, address):
    settings.OUTBOUND_ALLOW_PRIVATE_TARGETS = False
    dns["feeds.example.com"] = ["93.184.216.34", address]  # one bad answer among good ones is enough to refuse
    assert "feeds.example.com is on a private or local network" in outbound.target_refusal("https://feeds.example.com/")
    settings.OUTBOUND_ALLOW_PRIVATE_TARGETS = True
    assert outbound.target_refusal("https://feeds.example.com/") is None


def test_a_public_target_is_accepted_and_an_unknown_name_is_refused(settings, dns):
    settings.OUTBOUND_ALLOW_PRIVATE_TARGETS = False
    dns["feeds.example.com"] = ["93.184.216.34"]
    dns["nowhere.example.com"] = []
    assert outbound.target_refusal("https://feeds.example.com/v2/Fleet/1") is None
    assert "nowhere.example.com could not be found" in outbound.target_refusal("https://nowhere.example.com/")


def test_a_refused_target_is_never_contacted(settings, server):
    settings.OUTBOUND_ALLOW_PRIVATE_TARGETS = False
    with pytest.raises(outbound.OutboundError) as refused:
        outbound.request("POST", f"{server}/hook", body=b"{}", timeout=5)
    assert refused.value.code == "refused"
    assert Handler.received == []


def test_the_call_goes_to_the_address_that_was_checked(monkeypatch, server):
    """A name is resolved once and connected to by that answer: a second, different DNS answer (rebinding to an
    address the check would have refused) is never used."""
    port = server.rsplit(":", 1)[1]
    system = socket.getaddrinfo
    lookups = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host == "receiver.example.com":
            lookups.append(host)
            address = "127.0.0.1" if len(lookups) == 1 else "203.0.113.1"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return system(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    response = outbound.request("GET", f"http://receiver.example.com:{port}/hello", timeout=5)
    assert (response.status, lookups) == (200, ["receiver.example.com"])
    [(_method, path, headers, _body)] = Handler.received
    assert (path, headers["Host"]) == ("/hello", f"receiver.example.com:{port}")


def test_the_reasons_are_in_french_for_a_french_user(settings, dns):
    settings.OUTBOUND_ALLOW_PRIVATE_TARGETS = False
    dns["feeds.example.com"] = ["10.0.0.1"]
    with translation.override("fr"):
        assert "réseau privé" in outbound.target_refusal("https://feeds.example.com/")
        assert "http:// ou https://" in outbound.target_refusal("ftp://feeds.example.com/")
