"""Login, refresh rotation, reuse detection, logout, disabled users."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.core.db import tenant_session
from app.core.settings import get_settings
from app.core.tokens import actor_from_access_token
from app.domain.errors import RateLimited, Unauthorized
from app.domain.models import AuditEvent, RefreshToken, User
from app.services import auth as service
from tests.conftest import Demo

PASSWORD = "switchboard-demo"
ADDR = "203.0.113.7"


async def _login(slug: str = "maple-court", who: str = "dana") -> service.TokenPair:
    return await service.login(slug, f"{who}@{slug}.example", PASSWORD, ADDR)


async def test_login_gives_working_tokens(demo: Demo, clean_db: None) -> None:
    pair = await _login()
    dana = demo.user("maple-court", "dana")
    assert pair.user_id == dana.id and pair.role == "manager"
    assert pair.refresh_token.startswith(f"{dana.tenant_id}.")
    actor = actor_from_access_token(pair.access_token)
    assert actor.user_id == dana.id and actor.tenant_id == dana.tenant_id
    async with tenant_session(dana.tenant_id) as s:
        rows = (await s.exec(select(RefreshToken))).all()
    assert len(rows) == 1 and rows[0].token_hash != pair.refresh_token


async def test_login_email_is_case_insensitive(demo: Demo, clean_db: None) -> None:
    pair = await service.login(
        "Maple-Court", "DANA@maple-court.example", PASSWORD, ADDR
    )
    assert pair.role == "manager"


@pytest.mark.parametrize(
    ("slug", "email", "password"),
    [
        ("maple-court", "dana@maple-court.example", "wrong-password"),
        ("maple-court", "nobody@maple-court.example", PASSWORD),
        ("no-such-org", "dana@maple-court.example", PASSWORD),
        # Right email and password, other organisation: no cross-tenant lookup.
        ("riverside-lofts", "dana@maple-court.example", PASSWORD),
        ("", "dana@maple-court.example", PASSWORD),
    ],
)
async def test_login_failures_are_unauthorized(
    demo: Demo, clean_db: None, slug: str, email: str, password: str
) -> None:
    with pytest.raises(Unauthorized) as exc:
        await service.login(slug, email, password, ADDR)
    assert exc.value.message == service.BAD_LOGIN


async def test_refresh_rotates(demo: Demo, clean_db: None) -> None:
    first = await _login()
    second = await service.refresh(first.refresh_token)
    assert second.refresh_token != first.refresh_token
    assert actor_from_access_token(second.access_token).user_id == first.user_id
    third = await service.refresh(second.refresh_token)
    assert third.user_id == first.user_id


async def test_refresh_reuse_revokes_family_and_audits(
    demo: Demo, clean_db: None
) -> None:
    first = await _login()
    second = await service.refresh(first.refresh_token)
    # Someone replays the spent token: the whole family dies, including `second`.
    with pytest.raises(Unauthorized):
        await service.refresh(first.refresh_token)
    with pytest.raises(Unauthorized):
        await service.refresh(second.refresh_token)
    async with tenant_session(first.tenant_id) as s:
        tokens = (await s.exec(select(RefreshToken))).all()
        events = (
            await s.exec(
                select(AuditEvent).where(AuditEvent.kind == "auth.refresh_reuse")
            )
        ).all()
    assert tokens and all(t.revoked_at is not None for t in tokens)
    assert len(events) >= 1
    assert events[0].actor == f"user:{first.user_id}"
    # Another session of the same user is untouched.
    other = await _login()
    assert (await service.refresh(other.refresh_token)).user_id == first.user_id


async def test_logout_revokes(demo: Demo, clean_db: None) -> None:
    pair = await _login()
    await service.logout(pair.refresh_token)
    with pytest.raises(Unauthorized):
        await service.refresh(pair.refresh_token)


async def test_logout_ignores_garbage(demo: Demo, clean_db: None) -> None:
    for token in ("", "x", "not-a-uuid.secret", f"{demo.tenant('maple-court').id}.no"):
        await service.logout(token)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "a.b.c",
        "not-a-uuid.abc",
        "00000000-0000-0000-0000-000000000000.x",
    ],
)
async def test_refresh_rejects_malformed(
    demo: Demo, clean_db: None, token: str
) -> None:
    with pytest.raises(Unauthorized):
        await service.refresh(token)


async def test_refresh_with_other_tenant_prefix_fails(
    demo: Demo, clean_db: None
) -> None:
    pair = await _login()
    _, secret = pair.refresh_token.split(".")
    other = demo.tenant("riverside-lofts").id
    with pytest.raises(Unauthorized):
        await service.refresh(f"{other}.{secret}")


async def test_disabled_user_cannot_refresh_or_login(
    demo: Demo, clean_db: None
) -> None:
    pair = await _login("maple-court", "grace")
    grace = demo.user("maple-court", "grace")
    async with tenant_session(grace.tenant_id) as s:
        user = (await s.exec(select(User).where(User.id == grace.id))).one()
        user.disabled = True
        s.add(user)
    try:
        with pytest.raises(Unauthorized):
            await service.refresh(pair.refresh_token)
        with pytest.raises(Unauthorized):
            await _login("maple-court", "grace")
    finally:
        async with tenant_session(grace.tenant_id) as s:
            user = (await s.exec(select(User).where(User.id == grace.id))).one()
            user.disabled = False
            s.add(user)


async def test_login_rate_limited_per_account(
    demo: Demo, clean_db: None, long_rate_window: int
) -> None:
    limit = get_settings().login_rate_per_minute
    for _ in range(limit):
        with pytest.raises(Unauthorized):
            await service.login("maple-court", "omar@maple-court.example", "x", ADDR)
    with pytest.raises(RateLimited) as exc:
        await service.login("maple-court", "omar@maple-court.example", PASSWORD, ADDR)
    assert 0 < exc.value.retry_after_s <= long_rate_window


async def test_login_rate_limited_per_address(
    demo: Demo, clean_db: None, long_rate_window: int
) -> None:
    limit = get_settings().login_rate_per_minute * 5
    for i in range(limit):
        with pytest.raises(Unauthorized):
            await service.login("maple-court", f"u{i}@x.example", "x", "198.51.100.1")
    with pytest.raises(RateLimited):
        await service.login(
            "maple-court", "dana@maple-court.example", PASSWORD, "198.51.100.1"
        )
    # Another address is not affected.
    assert (await _login()).role == "manager"
