"""Web Push for live events: reach people whose app is closed.

`push_notifications(tenant_id, ids)` runs in the `send_push` job that
`app/core/live.py` queues once the notifications' transaction has committed. It
loads the recipients' subscriptions in the tenant's own session, encrypts and POSTs
one message per (event, subscription) with pywebpush in a worker thread (pywebpush
is blocking), and keeps the table tidy:

- 201/202: delivered to the push service; `last_success_at` set, failures reset,
  the notification marked `pushed_at`;
- 404/410: the browser dropped the subscription (RFC 8030): the row is deleted;
- anything else (5xx, 429, timeouts, an endpoint that no longer resolves to public
  addresses only, see app/core/netguard.py): `failures` + 1; after MAX_FAILURES in a row
  the row is deleted, so a dead endpoint does not cost a request forever.

Once, across crashes: each (notification, subscription) push is recorded in
`push_deliveries` before it is sent and confirmed (`sent`) in its own commit as
soon as the push service accepts it; a job run again (a retry, the sweeper, a
worker restarted after SIGKILL) skips the confirmed ones. What remains is the gap
between the service accepting a push and that commit: a worker killed inside it
cannot know, and sends once more (at least once, never lost). That copy carries the
same `Topic` (RFC 8030: it replaces the first while the device has not fetched it)
and the same notification `tag` (the service worker replaces the shown
notification instead of adding one), so the person still sees one notification.

Failures are logged, never raised: push is best effort, the notification row in
PostgreSQL is the truth and the app shows it on next open.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import requests
from py_vapid import Vapid
from pywebpush import WebPushException, webpush
from sqlalchemy import delete, func, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select

from app.core import metrics
from app.core.db import platform_session, tenant_session
from app.core.live import LiveEvent
from app.core.netguard import CheckedUrl, check_url, pinned_session
from app.core.redis_client import get_redis, tenant_key
from app.core.secrets import vapid_private_key_pem
from app.core.settings import get_settings
from app.domain.errors import Invalid
from app.domain.models import (
    Notification,
    PushDelivery,
    PushSubscription,
    Tenant,
    User,
    utcnow,
)
from app.domain.push_hours import held_for_digest, push_allowed
from app.domain.timezones import zone_or_utc

log = logging.getLogger(__name__)

# Kept by the push service while the device is offline (RFC 8030 TTL; pywebpush's
# default of 0 drops the message unless it can be delivered right now).
PUSH_TTL_S = 12 * 3600
HTTP_TIMEOUT_S = 10.0
MAX_FAILURES = 5
GONE = frozenset({404, 410})
# Older notifications are not pushed late: the app shows them when it next opens.
PUSH_RECOVERY_WINDOW = timedelta(minutes=10)
_NONE = uuid.UUID(int=0)  # an id no notification has
# What the service worker opens when the notification is clicked.
OPEN_URL = {
    "reply": "/",
    "approval": "/approvals",
    "task": "/tasks",
    # News about the person's own request: where they follow it.
    "request": "/requests",
    "approval_result": "/requests",
}


@dataclass
class PushReport:
    sent: int = 0
    removed: int = 0
    failed: int = 0
    gone: int = 0  # answered 404/410: the subscription no longer exists
    # failed sends by kind (see failure_reason), for the metrics
    reasons: dict[str, int] = field(default_factory=dict)
    quiet: int = 0  # events not pushed: outside the recipient's push hours
    held: int = 0  # relayed messages kept for the recipient's digest


@dataclass(frozen=True)
class _Target:
    id: uuid.UUID
    user_id: uuid.UUID
    info: dict[str, Any]


@dataclass(frozen=True)
class _Job:
    event: LiveEvent
    target: _Target
    body: str


@lru_cache(maxsize=1)
def _vapid() -> Vapid:
    return Vapid.from_pem(vapid_private_key_pem().encode())


def payload_for(event: LiveEvent, body: str = "") -> str:
    """The JSON the service worker turns into a notification (assets/sw.js)."""
    return json.dumps(
        {
            "title": (event.title or "Switchboard")[:200],
            "body": body[:500],
            "kind": event.kind,
            "tag": str(event.notification_id or f"{event.kind}:{event.user_id}"),
            "url": OPEN_URL.get(event.kind, "/alerts"),
        }
    )


def push_headers(event: LiveEvent) -> dict[str, str | int | float]:
    """RFC 8030 `Topic`: a second push of the same notification (sent again after
    a crash) replaces the first at the push service while it waits for the device.
    At most 32 URL-safe base64 characters: the notification id's hex is 32."""
    if event.notification_id is None:
        return {}
    return {"Topic": event.notification_id.hex}


def _post(job: _Job, sessions: dict[CheckedUrl, requests.Session]) -> int:
    """One push; the HTTP status (0 when the push service could not be reached or
    its endpoint is refused)."""
    try:
        # Checked again now (the name may resolve elsewhere since it was stored),
        # and the session connects to exactly the addresses checked.
        target = check_url(job.target.info["endpoint"])
    except Invalid:
        log.warning("web push endpoint refused: not a public address")
        return 0
    key = replace(target, url="")  # one session per push service address
    session = sessions.get(key)
    if session is None:
        session = sessions[key] = pinned_session(target)
    try:
        response = webpush(
            job.target.info,
            data=job.body,
            vapid_private_key=_vapid(),
            # A fresh dict: pywebpush writes `aud` and `exp` into it.
            vapid_claims={"sub": get_settings().vapid_subject},
            ttl=PUSH_TTL_S,
            timeout=HTTP_TIMEOUT_S,
            headers=push_headers(job.event),
            requests_session=session,
        )
    except WebPushException as exc:
        return int(exc.status_code or 0)
    except requests.RequestException:
        return 0
    return int(getattr(response, "status_code", 0) or 0)


def failure_reason(status: int) -> str:
    """A failed send's kind: never reached (0), refused (4xx), or the push
    service's own error (5xx and anything else)."""
    if status == 0:
        return "unreachable"
    return "rejected" if 400 <= status < 500 else "server_error"


async def _send_all(tenant_id: uuid.UUID, jobs: list[_Job]) -> list[int]:
    """Each push claimed, sent, then confirmed at once (see the module doc): the
    statuses, in order (-1: confirmed by an earlier run, not sent again)."""
    claimed = await _claim(tenant_id, jobs)
    # Sessions per batch: connections to the same push service are reused.
    sessions: dict[CheckedUrl, requests.Session] = {}
    statuses: list[int] = []
    try:
        for job in jobs:
            key = _delivery_key(job)
            if key is not None and key not in claimed:
                statuses.append(ALREADY_SENT)
                continue
            if key is not None and claimed[key] > 1:
                log.info("web push sent again: an earlier attempt was not confirmed")
            status = await asyncio.to_thread(_post, job, sessions)
            if key is not None:
                await _confirm(tenant_id, key, status)
            statuses.append(status)
    finally:
        for session in sessions.values():
            session.close()
    return statuses


ALREADY_SENT = -1
_DeliveryKey = tuple[uuid.UUID, uuid.UUID]  # (notification id, subscription id)


def _delivery_key(job: _Job) -> _DeliveryKey | None:
    if job.event.notification_id is None:
        return None  # a bare live event: nothing to record it against
    return (job.event.notification_id, job.target.id)


async def _claim(tenant_id: uuid.UUID, jobs: list[_Job]) -> dict[_DeliveryKey, int]:
    """Record the pushes about to be sent; returns the ones to send with their
    attempt number (those already confirmed are left out)."""
    keys = list(dict.fromkeys(k for job in jobs if (k := _delivery_key(job))))
    if not keys:
        return {}
    now = utcnow()
    stmt = (
        insert(PushDelivery)
        .values(
            [
                {
                    "tenant_id": tenant_id,
                    "notification_id": n,
                    "subscription_id": sub,
                    "status": "sending",
                    "attempts": 1,
                    "claimed_at": now,
                }
                for n, sub in keys
            ]
        )
        .on_conflict_do_update(
            index_elements=["tenant_id", "notification_id", "subscription_id"],
            set_={
                "status": "sending",
                "attempts": col(PushDelivery.attempts) + 1,
                "claimed_at": now,
            },
            where=col(PushDelivery.status) != "sent",
        )
        .returning(
            col(PushDelivery.notification_id),
            col(PushDelivery.subscription_id),
            col(PushDelivery.attempts),
        )
    )
    async with tenant_session(tenant_id) as s:
        rows = (await s.execute(stmt)).all()
    return {(n, sub): int(attempts) for n, sub, attempts in rows}


async def _confirm(tenant_id: uuid.UUID, key: _DeliveryKey, status: int) -> None:
    """Right after the push service answered, in its own short commit: the time
    between the two is the only one in which a crash sends this push again.
    (`pushed_at` waits for the whole batch: a run that dies halfway leaves it
    unset, so the sweeper runs the job again for the subscriptions not reached.)"""
    sent = 200 <= status < 300
    async with tenant_session(tenant_id) as s:
        await s.execute(
            update(PushDelivery)
            .where(
                col(PushDelivery.tenant_id) == tenant_id,
                tuple_(
                    col(PushDelivery.notification_id),
                    col(PushDelivery.subscription_id),
                )
                == key,
            )
            .values(
                status="sent" if sent else "failed",
                sent_at=func.clock_timestamp() if sent else None,
            )
        )


@dataclass(frozen=True)
class PushPrefs:
    awake: set[uuid.UUID]  # their push hours (organisation's zone) include now
    digest: set[uuid.UUID]  # relayed messages reach them as a digest


async def push_prefs(
    tenant_id: uuid.UUID, user_ids: set[uuid.UUID], now: datetime
) -> PushPrefs:
    """Each user's push preferences (app/domain/push_hours.py) at `now`."""
    async with platform_session() as ps:
        zone = zone_or_utc(
            (
                await ps.exec(select(Tenant.timezone).where(Tenant.id == tenant_id))
            ).first()
        )
    async with tenant_session(tenant_id) as s:
        rows = (
            await s.exec(
                select(User.id, User.push_hours, User.push_digest).where(
                    User.tenant_id == tenant_id, col(User.id).in_(user_ids)
                )
            )
        ).all()
    local = now.astimezone(zone).time()
    return PushPrefs(
        awake={uid for uid, window, _ in rows if push_allowed(window, local)},
        digest={uid for uid, _, digest in rows if digest},
    )


async def send_push(
    tenant_id: uuid.UUID, events: Iterable[LiveEvent], now: datetime | None = None
) -> PushReport:
    """Push each event to every subscription of its recipient (see module doc),
    except to people outside their push hours (the alert waits in their inbox)
    and relayed messages to people who get those as a digest
    (app/services/push_digest.py sends it)."""
    events = list(events)
    report = PushReport()
    recipients = {ev.user_id for ev in events}
    if not recipients:
        return report
    prefs = await push_prefs(tenant_id, recipients, now or utcnow())
    report.quiet = len([ev for ev in events if ev.user_id not in prefs.awake])
    events = [ev for ev in events if ev.user_id in prefs.awake]
    report.held = len(
        [ev for ev in events if held_for_digest(ev.kind, ev.user_id in prefs.digest)]
    )
    events = [
        ev for ev in events if not held_for_digest(ev.kind, ev.user_id in prefs.digest)
    ]
    recipients = {ev.user_id for ev in events}
    if not recipients:
        return report
    note_ids = [ev.notification_id for ev in events if ev.notification_id]
    async with tenant_session(tenant_id) as s:
        rows = (
            await s.exec(
                select(PushSubscription).where(
                    PushSubscription.tenant_id == tenant_id,
                    col(PushSubscription.user_id).in_(recipients),
                )
            )
        ).all()
        bodies = dict(
            (
                await s.exec(
                    select(Notification.id, Notification.body).where(
                        Notification.tenant_id == tenant_id,
                        col(Notification.id).in_(note_ids),
                    )
                )
            ).all()
            if note_ids
            else []
        )
    targets: dict[uuid.UUID, list[_Target]] = {}
    for row in rows:
        targets.setdefault(row.user_id, []).append(
            _Target(
                row.id,
                row.user_id,
                {
                    "endpoint": row.endpoint,
                    "keys": {"p256dh": row.p256dh, "auth": row.auth},
                },
            )
        )
    jobs = [
        _Job(ev, target, payload_for(ev, _body(ev, bodies)))
        for ev in events
        for target in targets.get(ev.user_id, [])
    ]
    if not jobs:
        return report
    try:
        statuses = await _send_all(tenant_id, jobs)
    except Exception:
        log.warning("web push failed", exc_info=True)
        await metrics.count(metrics.PUSH_FAILURES, {"reason": "error"}, len(jobs))
        return report
    await _record(tenant_id, jobs, statuses, report)
    await metrics.count_many(
        [
            (metrics.NOTIFICATIONS, {"channel": "push"}, report.sent),
            (metrics.PUSH_FAILURES, {"reason": "gone"}, report.gone),
            *(
                (metrics.PUSH_FAILURES, {"reason": why}, n)
                for why, n in report.reasons.items()
            ),
        ]
    )
    return report


def _body(event: LiveEvent, bodies: dict[uuid.UUID, str]) -> str:
    """The notification's text; an event with no row (a digest) carries its own."""
    if event.notification_id is not None:
        return bodies.get(event.notification_id, "")
    return str((event.data or {}).get("body") or "")


async def _record(
    tenant_id: uuid.UUID, jobs: list[_Job], statuses: list[int], report: PushReport
) -> None:
    ok: set[uuid.UUID] = set()
    gone: set[uuid.UUID] = set()
    failed: set[uuid.UUID] = set()
    pushed: set[uuid.UUID] = set()  # notification ids that reached a push service
    for job, status in zip(jobs, statuses, strict=True):
        if status == ALREADY_SENT:
            # Confirmed by a run that died before recording the rest.
            if job.event.notification_id is not None:
                pushed.add(job.event.notification_id)
            continue
        if 200 <= status < 300:
            ok.add(job.target.id)
            report.sent += 1
            if job.event.notification_id is not None:
                pushed.add(job.event.notification_id)
        elif status in GONE:
            gone.add(job.target.id)
            report.gone += 1
        else:
            failed.add(job.target.id)
            report.failed += 1
            why = failure_reason(status)
            report.reasons[why] = report.reasons.get(why, 0) + 1
            log.info("web push refused", extra={"status": status})
    ok -= gone
    failed -= ok | gone
    now = utcnow()
    async with tenant_session(tenant_id) as s:
        if gone:
            await s.execute(
                delete(PushSubscription).where(
                    col(PushSubscription.tenant_id) == tenant_id,
                    col(PushSubscription.id).in_(gone),
                )
            )
            report.removed += len(gone)
        if ok:
            await s.execute(
                update(PushSubscription)
                .where(
                    col(PushSubscription.tenant_id) == tenant_id,
                    col(PushSubscription.id).in_(ok),
                )
                .values(failures=0, last_success_at=now)
            )
        if failed:
            await s.execute(
                update(PushSubscription)
                .where(
                    col(PushSubscription.tenant_id) == tenant_id,
                    col(PushSubscription.id).in_(failed),
                )
                .values(failures=col(PushSubscription.failures) + 1)
            )
            dead = await s.execute(
                delete(PushSubscription)
                .where(
                    col(PushSubscription.tenant_id) == tenant_id,
                    col(PushSubscription.id).in_(failed),
                    col(PushSubscription.failures) >= MAX_FAILURES,
                )
                .returning(col(PushSubscription.id))
            )
            report.removed += len(dead.all())
        if pushed:
            await s.execute(
                update(Notification)
                .where(
                    col(Notification.tenant_id) == tenant_id,
                    col(Notification.id).in_(pushed),
                    col(Notification.pushed_at).is_(None),
                )
                .values(pushed_at=now)
            )


# One sender per notification at a time: a job re-created by the sweeper does not
# race the original. Longer than one batch of sends takes.
PUSH_LEASE_S = 60
# Takes the lease when it is free or already this job's (the same job running
# again after its worker died); KEYS: lease keys, ARGV[1]: owner, ARGV[2]: ttl.
# Returns the indexes (1-based) of the keys taken.
_LEASE = """
local taken = {}
for i, k in ipairs(KEYS) do
  local holder = redis.call('GET', k)
  if not holder or holder == ARGV[1] then
    redis.call('SET', k, ARGV[1], 'EX', tonumber(ARGV[2]))
    table.insert(taken, i)
  end
end
return taken
"""


def _lease_key(tenant_id: uuid.UUID, notification_id: uuid.UUID) -> str:
    return tenant_key(tenant_id, "push", str(notification_id))


async def _lease(
    tenant_id: uuid.UUID, ids: list[uuid.UUID], owner: str
) -> list[uuid.UUID]:
    if not ids:
        return []
    keys = [_lease_key(tenant_id, i) for i in ids]
    taken = await get_redis().eval(  # type: ignore[misc]
        _LEASE, len(keys), *keys, owner, PUSH_LEASE_S
    )
    return [ids[int(i) - 1] for i in taken]


async def push_notifications(
    tenant_id: uuid.UUID, notification_ids: list[uuid.UUID], owner: str = ""
) -> PushReport:
    """Push the given notifications that have not been pushed yet (a job delivered
    twice sends nothing the second time: pushed_at is set on success). `owner`
    (the job id) leases each notification while it is being sent, so a second job
    for the same notification skips it. Notifications whose recipient has no
    subscription are left out at once: no lease, no push-hours lookup."""
    async with tenant_session(tenant_id) as s:
        subscribed = select(PushSubscription.user_id).where(
            PushSubscription.tenant_id == tenant_id
        )
        rows = (
            await s.exec(
                select(Notification).where(
                    col(Notification.id).in_(notification_ids),
                    col(Notification.pushed_at).is_(None),
                    col(Notification.user_id).in_(subscribed),
                )
            )
        ).all()
    mine = set(
        await _lease(tenant_id, [n.id for n in rows], owner or str(uuid.uuid4()))
    )
    events = [
        LiveEvent(n.user_id, n.kind, n.id, n.title, dict(n.data or {}))
        for n in rows
        if n.id in mine
    ]
    return await send_push(tenant_id, events)


async def unpushed(tenant_id: uuid.UUID, older_than_s: float) -> list[uuid.UUID]:
    """Recent notifications still waiting for their push (the worker died between
    the notification's commit and queueing its push, or during the send) whose
    recipient has a subscription: the sweeper queues them again."""
    now = utcnow()
    async with tenant_session(tenant_id) as s:
        subscribed = select(PushSubscription.user_id).where(
            PushSubscription.tenant_id == tenant_id
        )
        rows = list(
            (
                await s.exec(
                    select(Notification.id, Notification.user_id, Notification.kind)
                    .where(
                        col(Notification.pushed_at).is_(None),
                        col(Notification.created_at)
                        < now - timedelta(seconds=older_than_s),
                        col(Notification.created_at) >= now - PUSH_RECOVERY_WINDOW,
                        col(Notification.user_id).in_(subscribed),
                    )
                    .order_by(col(Notification.created_at))
                    .limit(500)
                )
            ).all()
        )
    # Outside a recipient's push hours the alert waits in the inbox, and a relayed
    # message for someone on the digest waits for it: neither is a loss.
    if not rows:
        return []
    prefs = await push_prefs(tenant_id, {u for _, u, _ in rows}, now)
    return [
        n
        for n, u, kind in rows
        if u in prefs.awake and not held_for_digest(kind, u in prefs.digest)
    ]
