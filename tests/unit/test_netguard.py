"""studio.netguard: which addresses are public, and fetching a URL only from a checked address.

No real DNS and no traffic off loopback: `netguard.lookup` is replaced by a table, and outgoing
connections either go to a fake network (httpcore's connect replaced: it records where each
connection was headed, which TLS name it asked for, what was sent, and answers from a script) or
to a listener on 127.0.0.1 that counts the connections it accepts.
"""

from __future__ import annotations

import asyncio
import datetime
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import certifi
import httpcore
import httpcore._backends.auto
import pytest

from studio import netguard
from studio.errors import StudioError
from tests.support import LoopbackListener

PUBLIC = "93.184.216.34"
PUBLIC_V6 = "2606:4700:4700::1111"
JPEG = b"\xff\xd8\xff\xe0"
OK_JPEG = b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 4\r\n\r\n" + JPEG


# -- Which addresses are public -------------------------------------------------------------------

NOT_PUBLIC = [
    "127.0.0.1", "127.8.9.10",                    # loopback
    "10.0.0.1", "172.16.0.1", "172.31.255.254", "192.168.1.20",  # private
    "169.254.169.254", "169.254.0.1",             # link-local, the cloud metadata service
    "100.64.0.1", "100.127.255.254",              # shared address space (carrier NAT)
    "0.0.0.0", "0.1.2.3",                         # unspecified, "this network"
    "224.0.0.1", "239.255.255.250",               # multicast
    "240.0.0.1", "255.255.255.255",               # reserved, broadcast
    "192.0.2.1", "198.18.0.1",                    # documentation, benchmarking
    "::", "::1",                                  # unspecified, loopback
    "::127.0.0.1",                                # IPv4-compatible (deprecated)
    "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.0.0.1",  # IPv4-mapped
    "fe80::1", "fe80::1%eth0",                    # link-local, with a zone
    "fc00::1", "fd00::1", "fd00:ec2::254",        # unique local (fd00:ec2::254: AWS metadata)
    "fec0::1",                                    # site-local (deprecated)
    "ff02::1", "ff0e::1",                         # multicast
    "2001:db8::1",                                # documentation
    "2002:7f00:1::1", "2002:a00:1::1",            # 6to4 wrapping 127.0.0.1, 10.0.0.1
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",       # Teredo
    "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe",      # NAT64 of 127.0.0.1, 169.254.169.254
    "100::1",                                     # discard-only
]
PUBLIC_ADDRESSES = [
    PUBLIC, "8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "11.0.0.1",
    PUBLIC_V6, "2001:4860:4860::8888", "::ffff:8.8.8.8", "2002:808:808::1", "64:ff9b::808:808",
]


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_internal_addresses_are_not_public(address):
    assert netguard.is_public_address(address) is False


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
def test_public_addresses(address):
    assert netguard.is_public_address(address) is True


@pytest.mark.parametrize(("url", "origin"), [
    ("HTTP://LocalHost/x?y", "http://localhost:80"),
    ("http://127.0.0.1:8123", "http://127.0.0.1:8123"),
    ("https://api.dev.runwayml.com", "https://api.dev.runwayml.com:443"),
    ("https://[::1]:8443/a", "https://[::1]:8443"),
])
def test_origins_are_normalised(url, origin):
    assert netguard.origin_of(url) == origin


# -- Fakes: a resolver table and a network that records connections --------------------------

@dataclass
class Resolver:
    """Answers from a table; `answers` may give a different list on each call (DNS rebinding)."""

    answers: dict[str, list[list[str]]]
    calls: list[str] = field(default_factory=list)

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        lists = self.answers[host]
        return lists[min(len(self.calls) - 1, len(lists) - 1)]


@pytest.fixture
def resolver(monkeypatch) -> Resolver:
    fake = Resolver({})
    monkeypatch.setattr(netguard, "lookup", fake)
    return fake


@dataclass
class FakeNetwork:
    """Stands in for httpcore's sockets: every connection is recorded, none leaves the process."""

    script: list[bytes] = field(default_factory=lambda: [OK_JPEG])
    delay: float = 0.0                     # before each read: a slow server
    endless: bytes = b""                   # after the script, this chunk forever: a huge body
    unreachable: set[str] = field(default_factory=set)
    connects: list[tuple[str, int]] = field(default_factory=list)
    tls_names: list[str | None] = field(default_factory=list)
    sent: bytearray = field(default_factory=bytearray)
    reads: int = 0

    async def connect_tcp(self, host: str, port: int, **_: object) -> FakeStream:
        self.connects.append((host, port))
        if host in self.unreachable:
            raise httpcore.ConnectError(f"{host} is unreachable")
        return FakeStream(self, list(self.script))


class FakeStream(httpcore.AsyncNetworkStream):
    def __init__(self, network: FakeNetwork, chunks: list[bytes]) -> None:
        self.network, self.chunks = network, chunks

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self.network.reads += 1
        if self.network.delay:
            await asyncio.sleep(self.network.delay)
        return self.chunks.pop(0) if self.chunks else self.network.endless

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.network.sent += buffer

    async def aclose(self) -> None:
        return None

    async def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> FakeStream:
        self.network.tls_names.append(server_hostname)  # the certificate is checked against it
        return self

    def get_extra_info(self, info: str) -> None:
        return None


@pytest.fixture
def network(monkeypatch) -> FakeNetwork:
    fake = FakeNetwork()

    async def connect_tcp(backend, host, port, **kwargs):
        return await fake.connect_tcp(host, port, **kwargs)

    monkeypatch.setattr(httpcore._backends.auto.AutoBackend, "connect_tcp", connect_tcp)
    return fake


def fetch(url: str, **options) -> bytes:
    options = {"max_bytes": 1_000_000, "timeout": 5.0, **options}
    return asyncio.run(netguard.fetch_public(url, **options))


def refusal(url: str, **options) -> StudioError:
    with pytest.raises(StudioError) as caught:
        fetch(url, **options)
    return caught.value


# -- Names that lead inside are refused before any connection ---------------------------------

INTERNAL_ANSWERS = [
    ["127.0.0.1"], ["10.1.2.3"], ["172.16.5.4"], ["192.168.0.10"], ["169.254.169.254"], ["::1"],
    ["::ffff:127.0.0.1"], ["fd00::1"], ["0.0.0.0"], ["224.0.0.1"],
    [PUBLIC, "10.0.0.7"],            # one public and one private address: still refused
    ["10.0.0.7", PUBLIC],
]


@pytest.mark.parametrize("answer", INTERNAL_ANSWERS, ids=lambda answer: "+".join(answer))
def test_a_name_resolving_inside_is_refused_before_connecting(answer, resolver, network):
    resolver.answers["images.example.com"] = [answer]
    error = refusal("https://images.example.com/portrait.jpg")
    assert error.code == "url_not_allowed" and "private or local address" in error.message
    assert network.connects == []


@pytest.mark.parametrize("answer", INTERNAL_ANSWERS, ids=lambda answer: "+".join(answer))
def test_resolve_public_names_the_refusal(answer, resolver):
    resolver.answers["images.example.com"] = [answer]
    with pytest.raises(StudioError) as caught:
        asyncio.run(netguard.resolve_public("images.example.com", 443))
    assert caught.value.code == "url_not_allowed" and caught.value.status == 400


@pytest.mark.parametrize("url", [
    "https://127.0.0.1/a.jpg", "https://[::1]/a.jpg", "https://169.254.169.254/latest/meta-data/",
    "https://[::ffff:a9fe:a9fe]/latest/meta-data/", "https://10.0.0.1:8443/a.jpg",
])
def test_address_literals_are_checked_without_a_lookup(url, resolver, network):
    assert refusal(url).code == "url_not_allowed"
    assert resolver.calls == [] and network.connects == []


@pytest.mark.parametrize("url", [
    "http://images.example.com/a.jpg", "ftp://images.example.com/a.jpg", "file:///etc/passwd",
    "https://user:secret@images.example.com/a.jpg", "runway://uploads/abc/a.jpg",
])
def test_only_plain_https_urls_are_fetched(url, resolver, network):
    resolver.answers["images.example.com"] = [[PUBLIC]]
    assert refusal(url).code == "url_not_allowed"
    assert network.connects == []


def test_an_unknown_name_is_reported(resolver, network):
    error = refusal("https://nowhere.example.com/a.jpg")
    assert error.code == "url_unresolved" and "nowhere.example.com" in error.message
    assert network.connects == []


# -- The connection goes to the checked address -------------------------------------------------

def test_a_public_name_is_fetched_from_the_checked_address(resolver, network):
    resolver.answers["images.example.com"] = [[PUBLIC]]
    assert fetch("https://images.example.com/people/ava.jpg?size=large") == JPEG
    assert network.connects == [(PUBLIC, 443)]
    assert network.tls_names == ["images.example.com"]  # TLS still checks the real name
    request = bytes(network.sent)
    assert request.startswith(b"GET /people/ava.jpg?size=large HTTP/1.1\r\n")
    assert b"\r\nHost: images.example.com\r\n" in request


def test_a_second_answer_from_dns_is_never_used(resolver, network):
    """DNS rebinding: public for the check, loopback a moment later. There is only one lookup."""
    resolver.answers["rebind.example.com"] = [[PUBLIC], ["127.0.0.1"]]
    assert fetch("https://rebind.example.com:8443/a.jpg") == JPEG
    assert resolver.calls == ["rebind.example.com"]
    assert network.connects == [(PUBLIC, 8443)]
    assert b"\r\nHost: rebind.example.com:8443\r\n" in bytes(network.sent)


def test_the_next_checked_address_is_tried_when_one_is_unreachable(resolver, network):
    resolver.answers["images.example.com"] = [[PUBLIC_V6, PUBLIC]]
    network.unreachable.add(PUBLIC_V6)
    assert fetch("https://images.example.com/a.jpg") == JPEG
    assert network.connects == [(PUBLIC_V6, 443), (PUBLIC, 443)]
    assert network.tls_names == ["images.example.com"]


def test_no_reachable_address_is_reported(resolver, network):
    resolver.answers["images.example.com"] = [[PUBLIC]]
    network.unreachable.add(PUBLIC)
    assert refusal("https://images.example.com/a.jpg").code == "url_unreachable"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_refused_not_followed(status, resolver, network):
    resolver.answers["images.example.com"] = [[PUBLIC]]
    network.script = [f"HTTP/1.1 {status} Moved\r\nLocation: http://169.254.169.254/latest/\r\n"
                      "Content-Length: 0\r\n\r\n".encode()]
    error = refusal("https://images.example.com/a.jpg")
    assert error.code == "url_redirected"
    assert network.connects == [(PUBLIC, 443)]


def test_an_error_status_is_a_failure(resolver, network):
    resolver.answers["images.example.com"] = [[PUBLIC]]
    network.script = [b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"]
    error = refusal("https://images.example.com/a.jpg")
    assert error.code == "url_failed" and "404" in error.message


def test_a_body_over_the_limit_is_refused_and_no_longer_read(resolver, network):
    resolver.answers["images.example.com"] = [[PUBLIC]]
    network.script = [b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nConnection: close\r\n\r\n"]
    network.endless = b"x" * 1024  # a body that never ends
    error = refusal("https://images.example.com/a.jpg", max_bytes=10_000)
    assert error.code == "url_too_large" and "10,000 bytes" in error.message
    assert network.reads < 20


def test_a_body_within_the_limit_is_returned_whole(resolver, network):
    resolver.answers["images.example.com"] = [[PUBLIC]]
    body = b"y" * 10_000
    network.script = [b"HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n", body[:4000], body[4000:]]
    assert fetch("https://images.example.com/a.jpg", max_bytes=10_000) == body


def test_a_slow_server_hits_the_time_limit(resolver, network):
    resolver.answers["images.example.com"] = [[PUBLIC]]
    network.delay = 30.0
    started = time.monotonic()
    error = refusal("https://images.example.com/a.jpg", timeout=0.3)
    assert error.code == "url_timeout" and error.status == 504
    assert time.monotonic() - started < 3


def test_a_slow_resolver_counts_against_the_time_limit(monkeypatch, network):
    async def stuck(host: str, port: int) -> list[str]:
        await asyncio.sleep(30)
        return [PUBLIC]

    monkeypatch.setattr(netguard, "lookup", stuck)
    assert refusal("https://images.example.com/a.jpg", timeout=0.2).code == "url_timeout"
    assert network.connects == []


def test_allow_private_skips_the_address_check(resolver, network):
    resolver.answers["images.corp.example"] = [["10.0.0.5"]]
    assert fetch("https://images.corp.example/a.jpg", allow_private=True) == JPEG
    assert network.connects == [("10.0.0.5", 443)]
    assert network.tls_names == ["images.corp.example"]


def test_allow_private_still_wants_https(resolver, network):
    resolver.answers["images.corp.example"] = [["10.0.0.5"]]
    assert refusal("http://images.corp.example/a.jpg", allow_private=True).code == "url_not_allowed"
    assert network.connects == []


def test_the_system_lookup_gives_each_address_once(monkeypatch):
    async def getaddrinfo(loop, host, port, **kwargs):
        assert kwargs["type"] == socket.SOCK_STREAM
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::1", port, 0, 0)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", getaddrinfo)
    assert asyncio.run(netguard.system_lookup("localhost", 443)) == ["::1", "127.0.0.1"]


# -- Trusted origins: the studio's own upstream, over a real loopback socket ------------------

class Listener(LoopbackListener):
    """A tiny HTTP server on 127.0.0.1 that answers every request with a small JPEG."""

    def __init__(self) -> None:
        super().__init__(OK_JPEG)


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def test_a_trusted_origin_is_fetched_over_http_on_loopback(listener, resolver):
    origin = f"http://127.0.0.1:{listener.port}"
    assert fetch(f"{origin}/v1/files/a.jpg", trusted_origins=[origin]) == JPEG
    assert listener.accepted == 1


@pytest.mark.parametrize("url", ["http://127.0.0.1:{port}/a.jpg", "https://127.0.0.1:{port}/a.jpg",
                                 "https://loopback.example.com:{port}/a.jpg"])
def test_loopback_is_refused_without_trust(url, listener, resolver):
    resolver.answers["loopback.example.com"] = [["127.0.0.1"]]
    other_port = "http://127.0.0.1:1"  # trust is for one exact origin
    error = refusal(url.format(port=listener.port), trusted_origins=[other_port])
    assert error.code == "url_not_allowed"
    assert listener.accepted == 0


# -- TLS to a pinned address still verifies the name ------------------------------------------

def make_certificates(directory, name: str) -> tuple[str, str, str]:
    """A throwaway CA and a certificate for `name` only (no IP address in it): file paths of the
    CA certificate, the server certificate and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def certificate(subject, issuer, key, signer, *, ca: bool):
        now = datetime.datetime.now(datetime.timezone.utc)
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(hours=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            alt_names = x509.SubjectAlternativeName([x509.DNSName(name)])
            builder = builder.add_extension(alt_names, critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "netguard test CA")])
    ca = certificate(ca_name, ca_name, ca_key, ca_key, ca=True)
    leaf_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    leaf = certificate(leaf_name, ca_name, key, ca_key, ca=False)
    paths = [directory / "ca.pem", directory / "server.pem", directory / "server.key"]
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return tuple(str(path) for path in paths)


class TLSListener(Listener):
    """The loopback listener behind TLS with a certificate for one name; records the SNI names."""

    def __init__(self, cert: str, key: str) -> None:
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(cert, key)
        self.context.sni_callback = lambda sock, name, context: self.sni.append(name)
        self.sni: list[str] = []
        self.requests: list[bytes] = []
        super().__init__()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            conn.settimeout(5)
            try:
                with self.context.wrap_socket(conn, server_side=True) as tls:
                    self.requests.append(tls.recv(65536))
                    tls.sendall(OK_JPEG)
            except (ssl.SSLError, OSError):
                conn.close()  # the client refused our certificate


@pytest.fixture
def tls_listener(tmp_path, monkeypatch) -> Iterator[TLSListener]:
    ca, cert, key = make_certificates(tmp_path, "images.example.com")
    monkeypatch.setattr(certifi, "where", lambda: ca)  # httpx's default trust store: our test CA
    server = TLSListener(cert, key)
    yield server
    server.close()


def test_tls_to_the_checked_address_verifies_the_name(tls_listener, resolver):
    resolver.answers["images.example.com"] = [["127.0.0.1"]]
    url = f"https://images.example.com:{tls_listener.port}/a.jpg"
    assert fetch(url, allow_private=True) == JPEG  # loopback needs allow_private
    assert tls_listener.sni == ["images.example.com"]
    host_line = f"\r\nHost: images.example.com:{tls_listener.port}\r\n".encode()
    assert host_line in tls_listener.requests[0]


def test_tls_refuses_a_certificate_for_another_name(tls_listener, resolver):
    resolver.answers["other.example.com"] = [["127.0.0.1"]]
    error = refusal(f"https://other.example.com:{tls_listener.port}/a.jpg", allow_private=True)
    assert error.code == "url_unreachable"
    assert tls_listener.sni == ["other.example.com"] and tls_listener.requests == []
