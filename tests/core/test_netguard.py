"""Push endpoints are judged by the addresses their host resolves to: every
spelling of an internal address is refused, with the real getaddrinfo for numeric
forms and a resolver that answers like DNS for names."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from app.core.netguard import (
    CheckedUrl,
    check_url,
    is_public,
    pinned_session,
    system_resolver,
)
from app.core.settings import get_settings
from app.domain.errors import Invalid
from tests.conftest import PUBLIC_PUSH_ADDRESS

# The audit's bypasses and their IPv6 relatives; all resolve (offline, through
# getaddrinfo) to loopback, unspecified, link-local or private addresses, or do
# not resolve at all.
INTERNAL_HOSTS = [
    "2130706433",
    "0x7f000001",
    "127.1",
    "0177.0.0.1",
    "0",
    "127.0.0.1",
    "localhost",
    "localhost.",
    "metadata.google.internal.",
    "169.254.169.254",
    "10.0.0.1",
    "100.64.0.1",
    "224.0.0.1",
    "[::1]",
    "[::]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[::ffff:169.254.169.254]",
    "[64:ff9b::7f00:1]",
    "[2002:7f00:1::]",
    "[fe80::1]",
    "[fc00::1]",
    "[ff02::1]",
]
# Names whose DNS answer is internal (the fake resolver of tests/conftest.py).
INTERNAL_NAMES = [
    "private.push.test",  # 10.0.0.5
    "mixed.push.test",  # one public address and 127.0.0.1
    "metadata.push.test",  # 169.254.169.254
    "v6loop.push.test",  # ::1
]


@pytest.fixture
def no_trusted_networks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(get_settings(), "push_private_networks", "")
    yield


@pytest.mark.usefixtures("no_trusted_networks")
@pytest.mark.parametrize("host", INTERNAL_HOSTS)
def test_internal_spellings_are_refused_with_real_resolution(host: str) -> None:
    with pytest.raises(Invalid):
        check_url(f"https://{host}/push/abc", resolve=system_resolver)


@pytest.mark.usefixtures("no_trusted_networks")
@pytest.mark.parametrize("host", INTERNAL_NAMES)
def test_names_resolving_inside_are_refused(host: str) -> None:
    with pytest.raises(Invalid):
        check_url(f"https://{host}/push/abc")


@pytest.mark.usefixtures("no_trusted_networks")
@pytest.mark.parametrize(
    "url",
    [
        "http://fcm.googleapis.com/fcm/send/x",  # not https
        "https://fcm.googleapis.com:8443/fcm/send/x",  # not 443
        "https://fcm.googleapis.com:80/fcm/send/x",
        "https://user:pw@fcm.googleapis.com/fcm/send/x",
        "https://no-such-host.invalid/x",  # does not resolve
        "ftp://fcm.googleapis.com/x",
        "https:///x",
        "https://fcm.googleapis.com:99999/x",
    ],
)
def test_scheme_port_and_credentials(url: str) -> None:
    with pytest.raises(Invalid):
        check_url(url)


@pytest.mark.usefixtures("no_trusted_networks")
def test_public_names_pass_with_their_checked_addresses() -> None:
    checked = check_url("https://fcm.googleapis.com/fcm/send/abc")
    assert checked.addresses == (PUBLIC_PUSH_ADDRESS,)
    assert (checked.host, checked.port, checked.host_header) == (
        "fcm.googleapis.com",
        443,
        "fcm.googleapis.com",
    )
    v6 = check_url("https://updates.push.services.mozilla.com:443/wpush/v2/x")
    assert v6.addresses == ("2600:1901:0:92a9::",)


def test_trusted_networks_are_an_explicit_exception(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(get_settings(), "push_private_networks", "127.0.0.0/8")
    checked = check_url("http://127.0.0.1:8080/201/x")
    assert checked.host_header == "127.0.0.1:8080"
    with pytest.raises(Invalid):  # trusted loopback does not make 10/8 trusted
        check_url("https://private.push.test/x")
    with pytest.raises(Invalid):  # every address must be trusted
        check_url("http://mixed.push.test:8080/x")


def test_is_public() -> None:
    import ipaddress

    assert is_public(ipaddress.ip_address(PUBLIC_PUSH_ADDRESS))
    assert is_public(ipaddress.ip_address("2a00:1450:4001:80b::200a"))
    assert not is_public(ipaddress.ip_address("::ffff:10.0.0.1"))
    assert not is_public(ipaddress.ip_address("192.0.2.1"))  # documentation


class _Listener:
    """A TCP listener on one loopback address that counts connections; it answers
    each request with 201, or (`drop`) reads it and hangs up without answering."""

    def __init__(self, address: str, port: int = 0, drop: bool = False) -> None:
        import socket
        import threading

        self.sock = socket.create_server((address, port))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.requests: list[bytes] = []
        self.drop = drop
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                self.requests.append(data)
                if not self.drop:
                    conn.sendall(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")

    def close(self) -> None:
        self.sock.close()


def _checked(port: int, *addresses: str) -> CheckedUrl:
    url = f"http://multi.push.test:{port}/201/x"
    return CheckedUrl(url, "http", "multi.push.test", port, addresses)


def test_each_checked_address_is_tried_until_one_connects() -> None:
    """The first address refuses the connection (nothing listens there): the same
    push goes to the next checked one, once, with the name as Host."""
    up = _Listener("127.0.0.1")
    try:
        target = _checked(up.port, "127.0.0.2", "127.0.0.1")
        with pinned_session(target) as session:
            response = session.post(target.url, data=b"push", timeout=5)
        assert response.status_code == 201
        assert up.connections == 1
        assert f"host: multi.push.test:{up.port}" in up.requests[0].decode().lower()
    finally:
        up.close()


def test_a_push_that_may_have_arrived_is_not_sent_to_another_address() -> None:
    """Connected, request written, then no answer: the service may have it, so the
    next address is not tried (that would deliver the push twice)."""
    first = _Listener("127.0.0.1", drop=True)
    second = _Listener("127.0.0.3", port=first.port)
    try:
        target = _checked(first.port, "127.0.0.1", "127.0.0.3")
        with (
            pinned_session(target) as session,
            pytest.raises(requests.exceptions.ConnectionError),
        ):
            session.post(target.url, data=b"push", timeout=5)
        assert (first.connections, second.connections) == (1, 0)
    finally:
        first.close()
        second.close()


def test_every_address_refusing_is_a_connection_error() -> None:
    target = _checked(_Listener("127.0.0.1").port, "127.0.0.2", "127.0.0.4")
    with (
        pinned_session(target) as session,
        pytest.raises(requests.exceptions.ConnectionError),
    ):
        session.post(target.url, data=b"push", timeout=5)
