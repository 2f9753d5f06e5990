"""POST /api/v1/auth/*: tokens over HTTP, rotation, reuse detection, lockout."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlmodel import select

from app.core import tokens
from app.core.db import tenant_session
from app.core.settings import get_settings
from app.core.tokens import issue_access_token, issue_operator_token
from app.domain.models import AuditEvent, RefreshToken
from tests.api.objects import PASSWORD, auth
from tests.conftest import Demo

ME = "/api/v1/auth/me"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(user: Any, **over: object) -> dict[str, object]:
    s = get_settings()
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": s.jwt_issuer,
        "aud": s.jwt_audience,
        "iat": now,
        "exp": now + 300,
        "sub": str(user.id),
        "tid": str(user.tenant_id),
        "role": user.role,
        "typ": "access",
    }
    claims.update(over)
    return claims


def _signed(claims: dict[str, object], key: ECKey | None = None, kid: str = "") -> str:
    keys = tokens._keys()
    return jwt.encode(
        {"alg": "ES256", "kid": kid or keys.kid},
        claims,
        key or keys.signing,
        algorithms=["ES256"],
    )


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _login(
    client: httpx.AsyncClient, slug: str, handle: str, password: str = PASSWORD
) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/login",
        json={
            "tenant": slug,
            "email": f"{handle}@{slug}.example",
            "password": password,
        },
    )


def _assert_error(resp: httpx.Response, status: int, code: str) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["error"] == code and isinstance(body["message"], str)
    assert set(body) == {"error", "message"}


async def test_login_and_me(client: httpx.AsyncClient, demo: Demo) -> None:
    resp = await _login(client, "maple-court", "dana")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    dana = demo.user("maple-court", "dana")
    assert body["user_id"] == str(dana.id) and body["role"] == "manager"
    assert body["token_type"] == "bearer" and body["expires_in"] == 900
    head = body["access_token"].split(".")[0]
    header = json.loads(base64.urlsafe_b64decode(head + "=="))
    assert header["alg"] == "ES256" and header["kid"] == tokens._keys().kid
    me = await client.get(ME, headers=_bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json() == {
        "user_id": str(dana.id),
        "tenant_id": str(dana.tenant_id),
        "role": "manager",
    }


async def test_login_wrong_password_is_401(client: httpx.AsyncClient) -> None:
    _assert_error(
        await _login(client, "maple-court", "dana", "not-the-password"),
        401,
        "unauthorized",
    )
    # The same answer for an account of another organisation.
    resp = await client.post(
        "/api/v1/auth/login",
        json={
            "tenant": "riverside-lofts",
            "email": "dana@maple-court.example",
            "password": PASSWORD,
        },
    )
    _assert_error(resp, 401, "unauthorized")


async def test_missing_or_malformed_authorization_is_401(
    client: httpx.AsyncClient,
) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer not.a.jwt"},
        {"Authorization": "Bearer " + "x" * 5000},
    ):
        _assert_error(await client.get(ME, headers=headers), 401, "unauthorized")


async def test_expired_token_is_401(client: httpx.AsyncClient, demo: Demo) -> None:
    dana = demo.user("maple-court", "dana")
    token, _ = issue_access_token(dana.tenant_id, dana.id, dana.role, ttl_s=-120)
    _assert_error(await client.get(ME, headers=_bearer(token)), 401, "unauthorized")


async def test_tampered_token_is_401(client: httpx.AsyncClient, demo: Demo) -> None:
    ben = demo.user("maple-court", "ben")
    token, _ = issue_access_token(ben.tenant_id, ben.id, ben.role)
    header, payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["role"] = "admin"
    forged = f"{header}.{_b64(json.dumps(claims).encode())}.{sig}"
    _assert_error(await client.get(ME, headers=_bearer(forged)), 401, "unauthorized")
    # The untampered token still works: the refusal is about the change.
    assert (await client.get(ME, headers=_bearer(token))).json()["role"] == "resident"


async def test_wrong_audience_or_issuer_is_401(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    dana = demo.user("maple-court", "dana")
    for over in ({"aud": "another-api"}, {"iss": "someone-else"}):
        token = _signed(_claims(dana, **over))
        _assert_error(await client.get(ME, headers=_bearer(token)), 401, "unauthorized")
    assert (await client.get(ME, headers=_bearer(_signed(_claims(dana))))).is_success


async def test_alg_none_is_401(client: httpx.AsyncClient, demo: Demo) -> None:
    dana = demo.user("maple-court", "dana")
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(_claims(dana, role="admin")).encode())
    for token in (f"{header}.{payload}.", f"{header}.{payload}.e30"):
        _assert_error(await client.get(ME, headers=_bearer(token)), 401, "unauthorized")


async def test_wrong_key_or_kid_is_401(client: httpx.AsyncClient, demo: Demo) -> None:
    dana = demo.user("maple-court", "dana")
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    other = ECKey.import_key(pem)
    for token in (
        _signed(_claims(dana), key=other),  # our kid, someone else's key
        _signed(_claims(dana), key=other, kid="their-kid"),
        _signed(_claims(dana), kid="unknown-kid"),  # our key, a kid we don't know
    ):
        _assert_error(await client.get(ME, headers=_bearer(token)), 401, "unauthorized")


async def test_refresh_rotates_and_reuse_revokes_family(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    first = (await _login(client, "maple-court", "omar")).json()
    resp = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert resp.status_code == 200, resp.text
    second = resp.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (await client.get(ME, headers=_bearer(second["access_token"]))).is_success
    # The spent token comes back (stolen copy): the whole family is revoked.
    replay = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    _assert_error(replay, 401, "unauthorized")
    again = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )
    _assert_error(again, 401, "unauthorized")
    omar = demo.user("maple-court", "omar")
    async with tenant_session(omar.tenant_id) as s:
        rows = (
            await s.exec(select(RefreshToken).where(RefreshToken.user_id == omar.id))
        ).all()
        audit = (
            await s.exec(
                select(AuditEvent).where(AuditEvent.kind == "auth.refresh_reuse")
            )
        ).all()
    assert len(rows) == 2 and all(r.revoked_at is not None for r in rows)
    # One audit row per presentation of a dead token (the replay, then `second`).
    assert len(audit) == 2 and {a.actor for a in audit} == {f"user:{omar.id}"}


async def test_logout_ends_the_session(client: httpx.AsyncClient) -> None:
    pair = (await _login(client, "harbor-bistro", "luis")).json()
    out = await client.post(
        "/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]}
    )
    assert out.status_code == 204 and out.content == b""
    resp = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    _assert_error(resp, 401, "unauthorized")
    # Logging out with garbage is not an error (and reveals nothing).
    junk = await client.post("/api/v1/auth/logout", json={"refresh_token": "x.y"})
    assert junk.status_code == 204


async def test_disabled_user_cannot_refresh(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    pair = (await _login(client, "harbor-bistro", "sam")).json()
    admin = demo.user("harbor-bistro", "admin")
    sam = demo.user("harbor-bistro", "sam")
    url = f"/api/v1/admin/users/{sam.id}"
    try:
        assert (await client.post(f"{url}/disable", headers=auth(admin))).is_success
        resp = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
        )
        _assert_error(resp, 401, "unauthorized")
        _assert_error(await _login(client, "harbor-bistro", "sam"), 401, "unauthorized")
    finally:
        assert (await client.post(f"{url}/enable", headers=auth(admin))).is_success
    assert (await _login(client, "harbor-bistro", "sam")).status_code == 200


@pytest.fixture
def small_login_limit(monkeypatch: pytest.MonkeyPatch, long_rate_window: int) -> int:
    """A low limit keeps the number of (deliberately slow) password checks small."""
    monkeypatch.setattr(get_settings(), "login_rate_per_minute", 3)
    return 3


async def test_login_lockout_is_429_with_retry_after(
    client: httpx.AsyncClient, small_login_limit: int
) -> None:
    limit = small_login_limit
    for _ in range(limit):
        resp = await _login(client, "maple-court", "grace", "wrong-password")
        assert resp.status_code == 401
    # Even the right password is refused now: the account is locked for a while.
    locked = await _login(client, "maple-court", "grace")
    _assert_error(locked, 429, "rate_limited")
    assert 1 <= int(locked.headers["Retry-After"]) <= get_settings().rate_limit_window_s
    # Another account from the same address is still fine (address limit is 5x).
    assert (await _login(client, "maple-court", "dana")).status_code == 200


async def test_login_lockout_per_client_address(
    api_app: Any, client: httpx.AsyncClient, small_login_limit: int
) -> None:
    limit = small_login_limit * 5  # many people can share one address
    for i in range(limit):
        resp = await client.post(
            "/api/v1/auth/login",
            json={"tenant": "maple-court", "email": f"u{i}@x.example", "password": "x"},
        )
        assert resp.status_code == 401
    blocked = await _login(client, "maple-court", "dana")
    _assert_error(blocked, 429, "rate_limited")
    assert int(blocked.headers["Retry-After"]) >= 1
    transport = httpx.ASGITransport(app=api_app, client=("198.51.100.9", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as other:
        assert (await _login(other, "maple-court", "dana")).status_code == 200


async def test_operator_login_refresh_and_scope(
    client: httpx.AsyncClient, operator: tuple[uuid.UUID, str, str]
) -> None:
    _, email, password = operator
    resp = await client.post(
        "/api/v1/auth/operator/login", json={"email": email, "password": password}
    )
    assert resp.status_code == 200, resp.text
    pair = resp.json()
    tenants = await client.get(
        "/api/v1/operator/tenants", headers=_bearer(pair["access_token"])
    )
    assert tenants.status_code == 200
    assert "maple-court" in {t["slug"] for t in tenants.json()}
    # An operator token is not a tenant user's token.
    _assert_error(
        await client.get(ME, headers=_bearer(pair["access_token"])), 401, "unauthorized"
    )
    rotated = await client.post(
        "/api/v1/auth/operator/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert rotated.status_code == 200
    assert (
        await client.post(
            "/api/v1/auth/operator/refresh",
            json={"refresh_token": pair["refresh_token"]},
        )
    ).status_code == 401
    out = await client.post(
        "/api/v1/auth/logout", json={"refresh_token": rotated.json()["refresh_token"]}
    )
    assert out.status_code == 204
    after = await client.post(
        "/api/v1/auth/operator/refresh",
        json={"refresh_token": rotated.json()["refresh_token"]},
    )
    _assert_error(after, 401, "unauthorized")
    wrong = await client.post(
        "/api/v1/auth/operator/login", json={"email": email, "password": "nope-nope"}
    )
    _assert_error(wrong, 401, "unauthorized")


@pytest.mark.parametrize("kind", ["user", "operator"])
async def test_token_kinds_do_not_mix_over_http(
    client: httpx.AsyncClient, demo: Demo, kind: str
) -> None:
    admin = demo.user("maple-court", "admin")
    if kind == "user":
        # A tenant admin's token cannot use operator routes.
        headers = auth(admin)
        resp = await client.get("/api/v1/operator/tenants", headers=headers)
    else:
        # An operator token cannot read tenant content, whatever it claims.
        token, _ = issue_operator_token(admin.id)
        resp = await client.get("/api/v1/tasks", headers=_bearer(token))
    _assert_error(resp, 401, "unauthorized")
