"""Fetching a URL someone typed without letting it reach inside our network (SSRF).

A host name is resolved once; every address it gives must be public, and the request then goes
to that checked address (the name rides along in `Host` and in TLS's SNI, so the certificate is
still verified against the name). A second lookup could answer differently (DNS rebinding), so
there is none. Redirects are refused rather than followed: the next hop would need its own check.

The studio's own upstream (the embedded simulator on loopback, or `RUNWAYML_BASE_URL`) is named
in `trusted_origins` and skips the address check; `allow_private` skips it for everything.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

import httpx

from studio.errors import StudioError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_DEFAULT_PORTS = {"http": 80, "https": 443}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known NAT64: the low 32 bits are IPv4


# -- Addresses ----------------------------------------------------------------------------------

def is_public_address(address: str | IPAddress) -> bool:
    """True only for a globally routable unicast address: never loopback, private, link-local
    (169.254.169.254, where clouds serve instance credentials), shared, multicast or reserved."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded:  # the packets end up at the IPv4 address inside
            return all(is_public_address(v4) for v4 in embedded)
    refused = (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
               or ip.is_reserved or ip.is_unspecified or getattr(ip, "is_site_local", False))
    return ip.is_global and not refused


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses an IPv6 address maps, tunnels or translates to."""
    if ip.ipv4_mapped:
        return (ip.ipv4_mapped,)
    if ip.sixtofour:
        return (ip.sixtofour,)
    if ip.teredo:
        return ip.teredo  # (server, client)
    if ip in _NAT64:
        return (ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF),)
    return ()


# -- Names --------------------------------------------------------------------------------------

async def system_lookup(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for `host`, each once."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


lookup = system_lookup  # what `resolve` calls; tests put a table of their own here


async def resolve(host: str, port: int) -> list[str]:
    """`host`'s addresses: an address literal as is (no lookup), a name through `lookup`."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    not_found = StudioError("url_unresolved", f"The host name {host} could not be found.", 502)
    try:
        addresses = await lookup(host, port)
    except OSError as error:  # socket.gaierror included
        raise not_found from error
    if not addresses:
        raise not_found
    return addresses


async def resolve_public(host: str, port: int) -> list[str]:
    """`host`'s addresses, all public; one internal address is enough to refuse the name."""
    addresses = await resolve(host, port)
    if not all(is_public_address(address) for address in addresses):
        raise _not_allowed(f"{host} points to a private or local address; "
                           "the studio only fetches public addresses.")
    return addresses


def _not_allowed(message: str) -> StudioError:
    return StudioError("url_not_allowed", message, 400)


# -- URLs ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Target:
    url: httpx.URL
    host: str  # ASCII (IDNA) form: what DNS, SNI and the certificate use
    port: int

    @property
    def origin(self) -> str:
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.url.scheme}://{shown}:{self.port}"

    def at(self, address: str) -> httpx.URL:
        """The same URL with the host replaced by an address already checked."""
        return self.url.copy_with(host=address)


def _target(url: str) -> _Target:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as error:
        raise _not_allowed("This is not a valid web address.") from error
    if parsed.scheme not in _DEFAULT_PORTS or not parsed.raw_host:
        raise _not_allowed("Only http(s) web addresses with a host name can be fetched.")
    if parsed.userinfo:
        raise _not_allowed("Web addresses with a user name or password are not fetched.")
    host = parsed.raw_host.decode("ascii").lower()
    return _Target(parsed, host, parsed.port or _DEFAULT_PORTS[parsed.scheme])


def origin_of(url: str) -> str:
    """`scheme://host:port` of a URL, port always written, so equal origins compare equal."""
    return _target(url).origin


# -- Fetching -----------------------------------------------------------------------------------

async def fetch_public(url: str, *, max_bytes: int, timeout: float, allow_private: bool = False,
                       trusted_origins: Iterable[str] = ()) -> bytes:
    """The body of a 200 answer to GET `url`, or a `StudioError` saying why not.

    https only (http only for a trusted origin); the name is resolved once and must give public
    addresses (unless trusted or `allow_private`); no redirects; at most `max_bytes` of body and
    `timeout` seconds for everything (lookup, connect, TLS, body).
    """
    target = _target(url)
    trusted = target.origin in {origin_of(origin) for origin in trusted_origins}
    if target.url.scheme != "https" and not trusted:
        raise _not_allowed("Only https web addresses are fetched.")
    check = not (trusted or allow_private)
    try:
        return await asyncio.wait_for(_fetch(target, max_bytes, timeout, check=check), timeout)
    except asyncio.TimeoutError as error:  # not yet the builtin TimeoutError on Python 3.10
        raise StudioError("url_timeout", f"{target.host} did not answer within {timeout:g} s.",
                          504) from error


async def _fetch(target: _Target, max_bytes: int, timeout: float, *, check: bool) -> bytes:
    """Resolve once (checking the addresses when `check`), then try them in order: the first may
    be IPv6 on a host without IPv6."""
    if check:
        addresses = await resolve_public(target.host, target.port)
    else:
        addresses = await resolve(target.host, target.port)
    failure: Exception | None = None
    # trust_env=False: a proxy from the environment would resolve the name again itself.
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False,
                                 trust_env=False) as client:
        for address in addresses:
            try:
                return await _get(client, target, address, max_bytes)
            except httpx.ConnectError as error:
                failure = error
            except httpx.HTTPError as error:
                raise StudioError("url_failed", f"Fetching from {target.host} failed: {error}.",
                                  502) from error
    raise StudioError("url_unreachable", f"Could not connect to {target.host}.", 502) from failure


async def _get(client: httpx.AsyncClient, target: _Target, address: str, max_bytes: int) -> bytes:
    headers = {"Host": target.url.netloc.decode("ascii")}
    # httpcore checks the certificate against `sni_hostname` when given, not the URL's address.
    extensions = {"sni_hostname": target.host} if target.url.scheme == "https" else {}
    async with client.stream("GET", target.at(address), headers=headers,
                             extensions=extensions) as answer:
        if 300 <= answer.status_code < 400:
            raise StudioError("url_redirected", f"{target.host} answered with a redirect, "
                                                "which is not followed.", 502)
        if answer.status_code != 200:
            raise StudioError("url_failed", f"{target.host} answered HTTP {answer.status_code}.",
                              502)
        body = bytearray()
        async for chunk in answer.aiter_bytes():
            body += chunk
            if len(body) > max_bytes:
                raise StudioError("url_too_large", f"The file at {target.host} is larger than "
                                                   f"{max_bytes:,} bytes.", 502)
        return bytes(body)
