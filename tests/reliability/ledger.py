"""What the crash tests count, straight from PostgreSQL (as the owner: across
tenants, past RLS) and from the loopback push service.

A *loss* is something that should exist and does not (a message not done, a
notification never pushed); a *duplicate* is something that exists twice (a second
reply, an action's row written twice, the same push delivered twice).

Every copy of a push that reaches the push service is counted. One kind of copy is
reported apart rather than as a duplicate, and only when PostgreSQL and the copy
itself both show it: a worker killed between the push service accepting a push and
the commit confirming it (`push_deliveries`) sends that push again. Its row then has
one more attempt than confirmed sends, and the copy carries the same `Topic` header
(the push service replaces a waiting message of the same topic) and the same tag
(the device replaces the shown notification). Any other copy is a duplicate.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import text

from tests.ui.test_push_sender import Browser, PushService


@dataclass
class Subscribers:
    """One loopback push subscription per user; decrypts what each one received."""

    browsers: dict[str, Browser] = field(default_factory=dict)  # path → browser

    def path_for(self, user_id: uuid.UUID) -> str:
        return f"/201/{user_id}"

    def deliveries(self, service: PushService) -> dict[tuple[str, str], list[str]]:
        """(path, notification id) → the Topic header of each copy received."""
        seen: dict[tuple[str, str], list[str]] = {}
        for request in list(service.received):
            browser = self.browsers.get(request.path)
            if browser is None:
                continue
            tag = str(browser.decrypt(request.body)["tag"])
            topic = request.headers.get("topic", "")
            seen.setdefault((request.path, tag), []).append(topic)
        return seen


@dataclass
class Tally:
    messages: int = 0
    losses: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)
    push_resent_unconfirmed: int = 0

    @property
    def lost(self) -> int:
        return sum(self.losses.values())

    @property
    def duplicated(self) -> int:
        return sum(self.duplicates.values())

    def line(self) -> str:
        return (
            f"messages={self.messages} losses={self.lost} {self.losses} "
            f"duplicates={self.duplicated} {self.duplicates} "
            f"push_resent_unconfirmed={self.push_resent_unconfirmed}"
        )


def _scalar(conn: Any, sql: str, **params: Any) -> int:
    return int(conn.execute(text(sql), params).scalar() or 0)


def tally(
    owner_engine: Any,
    message_ids: list[uuid.UUID],
    subscribers: Subscribers | None = None,
    push_service: PushService | None = None,
) -> Tally:
    ids = [str(m) for m in message_ids]
    t = Tally(messages=len(ids))
    with owner_engine.connect() as conn:
        t.losses["not_done"] = _scalar(
            conn,
            "SELECT count(*) FROM messages WHERE id = ANY(CAST(:ids AS uuid[]))"
            " AND status <> 'done'",
            ids=ids,
        )
        t.losses["no_reply"] = _scalar(
            conn,
            "SELECT count(*) FROM messages m WHERE m.id = ANY(CAST(:ids AS uuid[]))"
            " AND NOT EXISTS (SELECT 1 FROM messages r WHERE r.reply_to_id = m.id"
            " AND r.author = 'assistant')",
            ids=ids,
        )
        t.duplicates["replies"] = _scalar(
            conn,
            "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM messages"
            " WHERE author = 'assistant' AND reply_to_id IS NOT NULL"
            " GROUP BY reply_to_id) x",
        )
        t.duplicates["runs"] = _scalar(
            conn,
            "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n"
            " FROM assistant_runs GROUP BY message_id) x",
        )
        t.duplicates["actions"] = _scalar(
            conn,
            "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n"
            " FROM proposed_actions GROUP BY message_id, position) x",
        )
        # An action's effect rows: at most one per executed action, none for an
        # action that did not execute.
        for table in ("tasks", "service_logs", "schedules"):
            t.duplicates[table] = _scalar(
                conn,
                f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n"
                f" FROM {table} WHERE source_action_id IS NOT NULL"
                f" GROUP BY source_action_id) x",
            )
            t.duplicates[f"{table}_unexecuted"] = _scalar(
                conn,
                f"SELECT count(*) FROM {table} r JOIN proposed_actions a"
                f" ON a.id = r.source_action_id WHERE a.status <> 'executed'",
            )
        # The same news to the same person for the same message, under any key.
        t.duplicates["notifications"] = _scalar(
            conn,
            "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n"
            " FROM notifications GROUP BY user_id, data->>'message_id',"
            " data->>'schedule_id', data->>'starts_at', kind, title, body) x",
        )
        if subscribers is not None and push_service is not None:
            notes = conn.execute(
                text("SELECT id, user_id, pushed_at FROM notifications")
            ).all()
            seen = subscribers.deliveries(push_service)
            expected = {
                (path, str(n))
                for n, u, _ in notes
                if (path := subscribers.path_for(u)) in subscribers.browsers
            }
            t.losses["push_not_sent"] = len(expected - set(seen))
            t.losses["push_not_recorded"] = sum(
                1
                for n, u, p in notes
                if p is None and subscribers.path_for(u) in subscribers.browsers
            )
            attempts = {
                (urlsplit(endpoint).path, str(n)): int(a)
                for n, endpoint, a in conn.execute(
                    text(
                        "SELECT d.notification_id, s.endpoint, d.attempts"
                        " FROM push_deliveries d JOIN push_subscriptions s"
                        " ON s.tenant_id = d.tenant_id AND s.id = d.subscription_id"
                    )
                ).all()
            }
            copies = resent = 0
            for (path, note), topics in seen.items():
                extra = len(topics) - 1
                # Sent again because the first send was never confirmed, and made
                # to replace it: reported apart (see the module doc).
                replaces = all(topic == uuid.UUID(note).hex for topic in topics)
                allowed = attempts.get((path, note), 1) - 1 if replaces else 0
                resent += min(extra, allowed)
                copies += max(extra - allowed, 0)
            t.duplicates["push"] = copies
            t.push_resent_unconfirmed = resent
    return t
