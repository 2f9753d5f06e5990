"""Outbound requests to URLs that users supply (Web Push endpoints): only to public
addresses, and only to the addresses that were checked.

A host name is judged by what it resolves to, never by how it is spelled:
`2130706433`, `0x7f000001`, `127.1`, `0177.0.0.1`, `0`, `localhost.`, `[::1]`,
`[::ffff:127.0.0.1]` and a DNS name pointing at 10.0.0.5 all resolve to addresses
that are not global, and are refused. Every address of the name must be global
(not loopback, private, link-local, shared, reserved, multicast or unspecified,
including IPv4 addresses embedded in IPv6 ones), the scheme https and the port 443.

Resolving again when connecting would let the name change in between (DNS
rebinding), so `pinned_session` connects to the checked addresses themselves, each
in turn until one accepts the connection (a push service answers on several), with
the name kept for SNI, certificate verification and the Host header, never through
a proxy and never following a redirect elsewhere. The next address is tried only
when no connection was made: a request that may have reached the service is never
sent again to another address (that would be a duplicate push).

PUSH_PRIVATE_NETWORKS lists networks an operator explicitly trusts (an on-site push
relay, the tests' loopback service): an endpoint whose every address lies in them may
use http and any port.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool
from urllib3.exceptions import ConnectTimeoutError, SSLError

from app.core.settings import get_settings
from app.domain.errors import Invalid

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# host, port -> the addresses it resolves to (empty: it does not resolve)
Resolver = Callable[[str, int], Sequence[str]]

PUBLIC_PORT = 443
_DEFAULT_PORTS = {"https": 443, "http": 80}
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
NOT_PUBLIC = "endpoint must be a public push service (https, port 443)."


def system_resolver(host: str, port: int) -> list[str]:
    """getaddrinfo, as a connection would resolve `host` (numeric forms included)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


_resolver: Resolver = system_resolver


@contextmanager
def resolving_with(resolver: Resolver) -> Iterator[None]:
    """Use `resolver` for every check until the block ends (tests run offline:
    public push services' names do not resolve there)."""
    global _resolver
    previous, _resolver = _resolver, resolver
    try:
        yield
    finally:
        _resolver = previous


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None and not is_public(inner):
            return False
    return ip.is_global and not (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


@dataclass(frozen=True)
class CheckedUrl:
    """A URL and the addresses it may be reached at (all checked)."""

    url: str
    scheme: str
    host: str  # as spelt in the URL, brackets removed
    port: int
    addresses: tuple[str, ...]

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.port == _DEFAULT_PORTS[self.scheme]:
            return host
        return f"{host}:{self.port}"


def trusted_networks() -> tuple[IPNetwork, ...]:
    raw = get_settings().push_private_networks
    return tuple(
        ipaddress.ip_network(item.strip(), strict=False)
        for item in raw.split(",")
        if item.strip()
    )


def check_url(url: str, resolve: Resolver | None = None) -> CheckedUrl:
    """The URL with its checked addresses, or Invalid (see the module doc)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)
    except ValueError as exc:
        raise Invalid("endpoint is not a valid URL.") from exc
    if parts.scheme not in _DEFAULT_PORTS or not host or not port:
        raise Invalid("endpoint must be an https URL.")
    if parts.username is not None or parts.password is not None:
        raise Invalid("endpoint must not carry credentials.")
    trusted = trusted_networks()
    strict = parts.scheme == "https" and port == PUBLIC_PORT
    if not strict and not trusted:
        raise Invalid(NOT_PUBLIC)
    addresses = tuple((resolve or _resolver)(host, port))
    if not addresses:
        raise Invalid(
            "endpoint must be a public push service: its host does not resolve."
        )
    try:
        ips = [ipaddress.ip_address(a.split("%", 1)[0]) for a in addresses]
    except ValueError as exc:
        raise Invalid(NOT_PUBLIC) from exc
    all_trusted = all(any(ip in net for net in trusted) for ip in ips)
    if not all_trusted and not (strict and all(is_public(ip) for ip in ips)):
        raise Invalid(NOT_PUBLIC)
    return CheckedUrl(url, parts.scheme, host, port, addresses)


def never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the request cannot have left: the TCP connection (or the TLS
    handshake before any byte of the request) failed. A reset or a timeout after
    that is not: the service may have received the request."""
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    # NewConnectionError (refused, unreachable) is a ConnectTimeoutError.
    return isinstance(reason, ConnectTimeoutError | SSLError)


class PinnedAdapter(HTTPAdapter):
    """Connects only to `target.addresses`, for `target`'s scheme, host and port,
    trying each in turn while none accepts the connection; the name stays in SNI,
    certificate checks and the Host header. One request at a time (the address
    being tried is adapter state): a session per thread."""

    def __init__(self, target: CheckedUrl) -> None:
        self.target = target
        self._address = target.addresses[0]
        super().__init__(max_retries=0)

    def get_connection_with_tls_context(
        self,
        request: requests.PreparedRequest,
        verify: bool | str,
        proxies: dict[str, str] | None = None,
        cert: Any = None,
    ) -> HTTPConnectionPool:
        t = self.target
        url = urlsplit(request.url or "")
        port = url.port or _DEFAULT_PORTS.get(url.scheme, 0)
        if (url.scheme, url.hostname, port) != (t.scheme, t.host, t.port):
            raise requests.exceptions.InvalidURL("not the checked endpoint")
        _params, pool_kwargs = self.build_connection_pool_key_attributes(
            request, verify, cert
        )
        if t.scheme == "https":
            pool_kwargs["server_hostname"] = t.host
            pool_kwargs["assert_hostname"] = t.host
        pool: HTTPConnectionPool = self.poolmanager.connection_from_host(
            self._address, port=t.port, scheme=t.scheme, pool_kwargs=pool_kwargs
        )
        return pool

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        request.headers["Host"] = self.target.host_header
        for address in self.target.addresses[:-1]:
            self._address = address
            try:
                return super().send(request, *args, **kwargs)
            except requests.exceptions.ConnectionError as exc:
                if not never_connected(exc):
                    raise
        self._address = self.target.addresses[-1]
        return super().send(request, *args, **kwargs)


def pinned_session(target: CheckedUrl) -> requests.Session:
    """A requests session that reaches `target` at its checked address only."""
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment
    session.max_redirects = 0
    adapter = PinnedAdapter(target)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
