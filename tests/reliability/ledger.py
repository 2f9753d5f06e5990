"""What the crash tests count, straight from PostgreSQL (as the owner: across
tenants, past RLS) and from the loopback push service.

A *loss* is something that should exist and does not (a message not done, a
notification never pushed); a *duplicate* is something that exists twice (a second
reply, an action's row written twice, the same push delivered twice).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from tests.ui.test_push_sender import Browser, PushService


@dataclass
class Subscribers:
    """One loopback push subscription per user; decrypts what each one received."""

    browsers: dict[str, Browser] = field(default_factory=dict)  # path → browser

    def path_for(self, user_id: uuid.UUID) -> str:
        return f"/201/{user_id}"

    def deliveries(self, service: PushService) -> dict[tuple[str, str], list[float]]:
        """(path, notification id) → when each copy arrived."""
        seen: dict[tuple[str, str], list[float]] = {}
        for request in list(service.received):
            browser = self.browsers.get(request.path)
            if browser is None:
                continue
            tag = str(browser.decrypt(request.body)["tag"])
            seen.setdefault((request.path, tag), []).append(request.at)
        return seen


@dataclass
class Tally:
    messages: int = 0
    losses: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)
    resent_in_send_window: int = 0

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
            f"push_resent_after_a_kill_mid_send={self.resent_in_send_window}"
        )


def _scalar(conn: Any, sql: str, **params: Any) -> int:
    return int(conn.execute(text(sql), params).scalar() or 0)


# From a push reaching the push service to its `pushed_at` commit: a worker that
# dies in between cannot know the push went out, so the push is sent again (at
# least once; the Topic header and the notification tag make the copy replace the
# first on the device). Such copies are counted apart, not as duplicates.
SEND_WINDOW_S = 1.0


def tally(
    owner_engine: Any,
    message_ids: list[uuid.UUID],
    subscribers: Subscribers | None = None,
    push_service: PushService | None = None,
    kills: list[float] | None = None,
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
            in_window = 0
            for times in seen.values():
                first, *again = sorted(times)
                if again and any(
                    first <= k <= first + SEND_WINDOW_S and k <= again[0]
                    for k in kills or []
                ):
                    in_window += len(again)
            t.duplicates["push"] = sum(len(v) - 1 for v in seen.values()) - in_window
            t.resent_in_send_window = in_window
    return t
