"""Web Push sending against a real local HTTP "push service": the message is
encrypted for the subscriber (decrypted here with its private key), signed with
VAPID, and the subscription table is tidied by the service's answers."""

from __future__ import annotations

import base64
import http.server
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlmodel import select

from app.core import metrics
from app.core.db import tenant_session
from app.core.live import LiveEvent
from app.core.netguard import resolving_with
from app.core.queue import get_pool
from app.core.redis_client import get_redis
from app.core.secrets import vapid_public_key_b64
from app.core.settings import get_settings
from app.domain.models import Notification, PushDelivery, PushSubscription
from app.services.notifications import notify_users
from app.services.push_sender import MAX_FAILURES, push_notifications, send_push
from tests.conftest import PUBLIC_PUSH_ADDRESS, Demo

LOOP = "127.0.0.1/32"


def b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)


@dataclass
class PushService:
    """Answers POST /<status>/<anything> with <status>; records every request."""

    base: str
    received: list[Received] = field(default_factory=list)


@pytest.fixture(scope="module")
def push_service() -> Iterator[PushService]:
    service = PushService(base="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            service.received.append(
                Received(
                    self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
            )
            status = int(self.path.strip("/").split("/")[0])
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    service.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # This loopback service is an internal address: trusted explicitly, as an
    # operator would trust an on-site push relay (app/core/netguard.py).
    try:
        with trusting(LOOP):
            yield service
    finally:
        server.shutdown()


@contextmanager
def trusting(networks: str) -> Iterator[None]:
    """PUSH_PRIVATE_NETWORKS for the block, in the environment too: some fixtures
    rebuild the settings."""
    before_env = os.environ.get("PUSH_PRIVATE_NETWORKS")
    before = get_settings().push_private_networks
    os.environ["PUSH_PRIVATE_NETWORKS"] = networks
    get_settings().push_private_networks = networks
    try:
        yield
    finally:
        if before_env is None:
            os.environ.pop("PUSH_PRIVATE_NETWORKS", None)
        else:
            os.environ["PUSH_PRIVATE_NETWORKS"] = before_env
        get_settings().push_private_networks = before


@dataclass
class Browser:
    """A subscriber's key pair and auth secret, as a browser would hold them."""

    private_key: ec.EllipticCurvePrivateKey
    p256dh: str
    auth_secret: bytes

    @classmethod
    def new(cls) -> Browser:
        key = ec.generate_private_key(ec.SECP256R1())
        raw = key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return cls(key, b64u(raw), os.urandom(16))

    def decrypt(self, body: bytes) -> dict[str, Any]:
        plain = http_ece.decrypt(
            body,
            private_key=self.private_key,
            auth_secret=self.auth_secret,
            version="aes128gcm",
        )
        return dict(json.loads(plain))


async def _subscribe(
    tenant_id: uuid.UUID, user_id: uuid.UUID, endpoint: str, browser: Browser
) -> uuid.UUID:
    # Stored directly: the public API refuses http:// endpoints (they are local).
    async with tenant_session(tenant_id) as s:
        row = PushSubscription(
            tenant_id=tenant_id,
            user_id=user_id,
            endpoint=endpoint,
            p256dh=browser.p256dh,
            auth=b64u(browser.auth_secret),
        )
        s.add(row)
    return row.id


async def test_push_is_encrypted_signed_and_marks_the_notification(
    demo: Demo, clean_db: None, push_service: PushService
) -> None:
    tid = demo.tenant("harbor-bistro").id
    luis = demo.user("harbor-bistro", "luis")
    browser = Browser.new()
    path = f"/201/{uuid.uuid4().hex}"
    sub_id = await _subscribe(tid, luis.id, push_service.base + path, browser)
    async with tenant_session(tid) as s:
        ids = await notify_users(
            s,
            tid,
            [luis.id],
            kind="schedule",
            title="Deep clean the walk-in fridge",
            body="Friday 10pm, kitchen team.",
            dedupe_key=f"test:{uuid.uuid4().hex}",
        )

    report = await push_notifications(tid, ids)

    assert (report.sent, report.removed, report.failed) == (1, 0, 0)
    [got] = [r for r in push_service.received if r.path == path]
    assert got.headers["content-encoding"] == "aes128gcm"
    assert int(got.headers["ttl"]) > 0
    payload = browser.decrypt(got.body)
    assert payload["title"] == "Deep clean the walk-in fridge"
    assert payload["body"] == "Friday 10pm, kitchen team."
    assert payload["tag"] == str(ids[0])
    # RFC 8030 Topic: a copy sent again after a crash replaces this one while the
    # device has not fetched it.
    assert got.headers["topic"] == ids[0].hex
    # VAPID (RFC 8292): ES256 JWT for this push service, signed by our key.
    scheme, _, rest = got.headers["authorization"].partition(" ")
    assert scheme == "vapid"
    params = dict(p.strip().split("=", 1) for p in rest.split(","))
    assert params["k"] == vapid_public_key_b64()
    x, y = unb64u(params["k"])[1:33], unb64u(params["k"])[33:]
    key = ECKey.import_key({"kty": "EC", "crv": "P-256", "x": b64u(x), "y": b64u(y)})
    claims = jwt.decode(params["t"], key, algorithms=["ES256"]).claims
    assert claims["aud"] == push_service.base
    assert claims["sub"].startswith("mailto:")
    async with tenant_session(tid) as s:
        sub = (
            await s.exec(select(PushSubscription).where(PushSubscription.id == sub_id))
        ).one()
        note = (
            await s.exec(select(Notification).where(Notification.id == ids[0]))
        ).one()
    assert sub.last_success_at is not None and sub.failures == 0
    assert note.pushed_at is not None


async def _push_failures(reason: str) -> float:
    field = metrics.series(metrics.PUSH_FAILURES, {"reason": reason})
    value = await get_redis().hget(metrics.counters_key(), field)  # type: ignore[misc]
    return float(value or 0)


async def test_gone_subscriptions_are_deleted_and_failures_counted(
    demo: Demo, clean_db: None, push_service: PushService
) -> None:
    tid = demo.tenant("harbor-bistro").id
    sam = demo.user("harbor-bistro", "sam")
    gone_404 = await _subscribe(
        tid, sam.id, f"{push_service.base}/404/a", Browser.new()
    )
    gone_410 = await _subscribe(
        tid, sam.id, f"{push_service.base}/410/b", Browser.new()
    )
    flaky = await _subscribe(tid, sam.id, f"{push_service.base}/500/c", Browser.new())
    event = LiveEvent(sam.id, "notify", None, "Staff meeting moved")
    before = {why: await _push_failures(why) for why in ("gone", "server_error")}

    report = await send_push(tid, [event])

    assert (report.sent, report.removed, report.failed) == (0, 2, 1)
    # What /api/metrics shows (app/core/metrics.py): failures by reason.
    assert await _push_failures("gone") == before["gone"] + 2
    assert await _push_failures("server_error") == before["server_error"] + 1
    async with tenant_session(tid) as s:
        left = {r.id: r for r in (await s.exec(select(PushSubscription))).all()}
    assert gone_404 not in left and gone_410 not in left
    assert left[flaky].failures == 1
    for _ in range(MAX_FAILURES - 1):
        await send_push(tid, [event])
    async with tenant_session(tid) as s:
        assert (await s.exec(select(PushSubscription))).all() == []


@pytest.mark.isolation
async def test_push_only_reaches_the_events_tenant(
    demo: Demo, clean_db: None, push_service: PushService
) -> None:
    """Same user id sent with another tenant: no subscription of theirs is found."""
    harbor = demo.tenant("harbor-bistro").id
    maple = demo.tenant("maple-court").id
    luis = demo.user("harbor-bistro", "luis")
    path = f"/201/{uuid.uuid4().hex}"
    await _subscribe(harbor, luis.id, push_service.base + path, Browser.new())

    report = await send_push(maple, [LiveEvent(luis.id, "notify", None, "x")])

    assert report.sent == 0
    assert all(r.path != path for r in push_service.received)


async def test_no_subscriptions_sends_nothing(demo: Demo, clean_db: None) -> None:
    tid = demo.tenant("harbor-bistro").id
    report = await send_push(tid, [LiveEvent(uuid.uuid4(), "notify", None, "x")])
    assert (report.sent, report.removed, report.failed) == (0, 0, 0)
    assert (await send_push(tid, [])).sent == 0


async def test_nothing_is_pushed_outside_push_hours(
    demo: Demo, clean_db: None, push_service: PushService
) -> None:
    """Priya (seed data) accepts push only between 10:00 and 23:00, her
    organisation's time; the alert still waits in her inbox."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from app.core.db import platform_session
    from app.domain.models import Tenant

    tid = demo.tenant("harbor-bistro").id
    priya = demo.user("harbor-bistro", "priya")
    assert priya.push_hours == "10:00-23:00"
    path = f"/201/{uuid.uuid4().hex}"
    await _subscribe(tid, priya.id, push_service.base + path, Browser.new())
    async with platform_session() as ps:
        tenant = await ps.get(Tenant, tid)
    assert tenant is not None
    zone = ZoneInfo(tenant.timezone)
    event = LiveEvent(priya.id, "notify", None, "Bar fridge is warm")

    night = await send_push(tid, [event], now=datetime(2026, 3, 3, 3, 0, tzinfo=zone))
    assert (night.sent, night.quiet) == (0, 1)
    assert [r for r in push_service.received if r.path == path] == []

    noon = await send_push(tid, [event], now=datetime(2026, 3, 3, 12, 0, tzinfo=zone))
    assert (noon.sent, noon.quiet) == (1, 0)
    assert len([r for r in push_service.received if r.path == path]) == 1


async def test_internal_endpoints_are_refused_when_sending(
    demo: Demo,
    clean_db: None,
    push_service: PushService,
) -> None:
    """A row that got past the old filter (or a name that resolves inside since it
    was checked) is not contacted: checked again at send time."""
    tid = demo.tenant("harbor-bistro").id
    sam = demo.user("harbor-bistro", "sam")
    port = push_service.base.rsplit(":", 1)[1]
    paths = [f"/201/{uuid.uuid4().hex}" for _ in range(4)]
    for host, path in zip(
        ["127.0.0.1", "2130706433", "127.1", "rebound.push.test"], paths, strict=True
    ):
        await _subscribe(tid, sam.id, f"http://{host}:{port}{path}", Browser.new())
    # https on 443 too, for a name that now resolves to loopback (DNS rebinding).
    await _subscribe(tid, sam.id, "https://rebound.push.test/x", Browser.new())

    def rebound(host: str, port: int) -> list[str]:
        return ["127.0.0.1"] if host == "rebound.push.test" else []

    with resolving_with(rebound), trusting(""):
        report = await send_push(tid, [LiveEvent(sam.id, "notify", None, "x")])

    assert (report.sent, report.failed) == (0, 5)
    assert not [r for r in push_service.received if r.path in paths]


async def test_sender_connects_to_the_checked_address_only(
    demo: Demo, clean_db: None, push_service: PushService
) -> None:
    """The name is resolved once, by the check; the connection goes to that
    address (this name has no DNS entry at all), with the name as Host."""
    tid = demo.tenant("harbor-bistro").id
    sam = demo.user("harbor-bistro", "sam")
    port = push_service.base.rsplit(":", 1)[1]
    path = f"/201/{uuid.uuid4().hex}"
    await _subscribe(
        tid, sam.id, f"http://pinned.push.test:{port}{path}", Browser.new()
    )
    calls: list[str] = []

    def once(host: str, _port: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"] if host == "pinned.push.test" else [PUBLIC_PUSH_ADDRESS]

    with resolving_with(once):
        report = await send_push(tid, [LiveEvent(sam.id, "notify", None, "x")])

    assert report.sent == 1
    [got] = [r for r in push_service.received if r.path == path]
    assert got.headers["host"] == f"pinned.push.test:{port}"
    assert calls == ["pinned.push.test"]


async def test_a_push_confirmed_before_a_crash_is_not_sent_again(
    demo: Demo, clean_db: None, push_service: PushService
) -> None:
    """The worker died mid-batch: the push to the phone was confirmed, the one to
    the laptop was claimed but never confirmed, and the notification not marked.
    The job run again sends to the laptop only (with the same Topic and tag: a copy
    the push service or the device replaces), and marks the notification."""
    tid = demo.tenant("harbor-bistro").id
    luis = demo.user("harbor-bistro", "luis")
    phone, laptop = (f"/201/{uuid.uuid4().hex}" for _ in range(2))
    laptop_browser = Browser.new()
    phone_id = await _subscribe(tid, luis.id, push_service.base + phone, Browser.new())
    laptop_id = await _subscribe(
        tid, luis.id, push_service.base + laptop, laptop_browser
    )
    async with tenant_session(tid) as s:
        [note_id] = await notify_users(
            s,
            tid,
            [luis.id],
            kind="notify",
            title="Fryer noise",
            body="",
            dedupe_key=f"test:{uuid.uuid4().hex}",
        )
        for sub_id, status in ((phone_id, "sent"), (laptop_id, "sending")):
            s.add(
                PushDelivery(
                    tenant_id=tid,
                    notification_id=note_id,
                    subscription_id=sub_id,
                    status=status,
                )
            )

    # The same job (arq runs it again under its id, which holds the send lease).
    report = await push_notifications(tid, [note_id], owner="push:crashed")
    again = await push_notifications(tid, [note_id], owner="push:crashed")

    assert (report.sent, again.sent) == (1, 0)
    assert [r for r in push_service.received if r.path == phone] == []
    [got] = [r for r in push_service.received if r.path == laptop]
    assert got.headers["topic"] == note_id.hex
    assert laptop_browser.decrypt(got.body)["tag"] == str(note_id)
    async with tenant_session(tid) as s:
        rows = {
            d.subscription_id: d for d in (await s.exec(select(PushDelivery))).all()
        }
        note = await s.get(Notification, (tid, note_id))
    assert (rows[laptop_id].status, rows[laptop_id].attempts) == ("sent", 2)
    assert rows[laptop_id].sent_at is not None
    assert (rows[phone_id].status, rows[phone_id].attempts) == ("sent", 1)
    assert note is not None and note.pushed_at is not None


async def test_a_job_run_again_after_the_sends_sends_nothing(
    demo: Demo, clean_db: None, push_service: PushService
) -> None:
    """Killed after every push was confirmed but before the notification was
    marked: the next run marks it and sends nothing."""
    tid = demo.tenant("harbor-bistro").id
    sam = demo.user("harbor-bistro", "sam")
    path = f"/201/{uuid.uuid4().hex}"
    await _subscribe(tid, sam.id, push_service.base + path, Browser.new())
    async with tenant_session(tid) as s:
        ids = await notify_users(
            s,
            tid,
            [sam.id],
            kind="notify",
            title="Walk-in is warm",
            body="",
            dedupe_key=f"test:{uuid.uuid4().hex}",
        )
    assert (await push_notifications(tid, ids, owner="push:crashed")).sent == 1
    async with tenant_session(tid) as s:
        note = await s.get(Notification, (tid, ids[0]))
        assert note is not None
        note.pushed_at = None
        s.add(note)

    assert (await push_notifications(tid, ids, owner="push:crashed")).sent == 0
    assert len([r for r in push_service.received if r.path == path]) == 1
    async with tenant_session(tid) as s:
        note = await s.get(Notification, (tid, ids[0]))
    assert note is not None and note.pushed_at is not None


async def test_only_recipients_with_a_subscription_get_a_push_job(
    demo: Demo, clean_db: None
) -> None:
    """One audience, two people: the Web Push job carries the notification of the
    one with a subscription only, and none is queued when nobody has one."""
    tid = demo.tenant("harbor-bistro").id
    sam = demo.user("harbor-bistro", "sam")
    luis = demo.user("harbor-bistro", "luis")
    await _subscribe(tid, sam.id, "http://127.0.0.1:9/201/x", Browser.new())
    pool = await get_pool()

    async def push_jobs() -> list[list[str]]:
        jobs = await pool.queued_jobs()
        return [list(j.args[1]) for j in jobs if j.function == "send_push"]

    before = await push_jobs()
    async with tenant_session(tid) as s:
        ids = await notify_users(
            s,
            tid,
            [luis.id, sam.id],
            kind="notify",
            title="Fryer",
            body="",
            dedupe_key=f"t:{uuid.uuid4().hex}",
        )
    async with tenant_session(tid) as s:
        owner = {
            n.id: n.user_id
            for n in (await s.exec(select(Notification))).all()
            if n.id in ids
        }
    new = [job for job in await push_jobs() if job not in before]
    assert new == [[str(i) for i in ids if owner[i] == sam.id]]
    async with tenant_session(tid) as s:
        await notify_users(
            s,
            tid,
            [luis.id],
            kind="notify",
            title="Fryer",
            body="",
            dedupe_key=f"t:{uuid.uuid4().hex}",
        )
    assert [job for job in await push_jobs() if job not in before] == new
