"""Directories built from demo/org.yaml without a database, for pure unit tests of
the prompt, the offline model and the policy."""

from __future__ import annotations

import uuid
from typing import Any

from app.domain.directory import (
    Directory,
    Person,
    PropertyEntry,
    ServiceEntry,
    TeamEntry,
    TenantInfo,
)
from app.domain.recurrence import WEEKDAYS
from app.services.seed import load_demo


def _id(*parts: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts))


def tenant_spec(slug: str) -> dict[str, Any]:
    return next(t for t in load_demo()["tenants"] if t["slug"] == slug)


def directory_for(tenant_slug: str, handle: str) -> Directory:
    spec = tenant_spec(tenant_slug)
    teams_of: dict[str, list[str]] = {}
    for t in spec.get("teams", []):
        for m in t.get("members", []):
            teams_of.setdefault(m, []).append(t["slug"])
    people = [
        Person(
            id=_id(tenant_slug, "user", u["handle"]),
            handle=u["handle"],
            name=u["name"],
            role=u["role"],
            teams=tuple(sorted(teams_of.get(u["handle"], []))),
            property=u.get("property"),
            # YAML reads `unit: 1` as a number; the database holds labels as text.
            unit=None if u.get("unit") is None else str(u["unit"]),
        )
        for u in sorted(spec["users"], key=lambda u: u["handle"])
    ]
    sender = next(p for p in people if p.handle == handle)
    teams = [
        TeamEntry(
            _id(tenant_slug, "team", t["slug"]),
            t["slug"],
            t["name"],
            tuple(_id(tenant_slug, "user", m) for m in t.get("members", [])),
            _id(tenant_slug, "user", t["lead"]) if t.get("lead") else None,
        )
        for t in spec.get("teams", [])
    ]
    props = []
    for p in spec.get("properties", []):
        services = tuple(
            ServiceEntry(
                _id(tenant_slug, "service", p["slug"], s["name"]),
                s["name"],
                s.get("team"),
                WEEKDAYS.index(s["weekday"]) if s.get("weekday") else None,
                s.get("month_day"),
                s["time"],
            )
            for s in p.get("services", [])
        )
        units = {
            str(u): _id(tenant_slug, "unit", p["slug"], str(u)) for u in p["units"]
        }
        props.append(
            PropertyEntry(
                _id(tenant_slug, "property", p["slug"]),
                p["slug"],
                p["name"],
                p["address"],
                units,
                services,
            )
        )
    if sender.role == "resident":
        people = [p for p in people if p.is_staff or p.id == sender.id]
        props = [p for p in props if p.slug == sender.property]
    info = TenantInfo(
        _id(tenant_slug), tenant_slug, spec["name"], spec["kind"], spec["timezone"], {}
    )
    return Directory(info, sender, tuple(people), tuple(teams), tuple(props))


def memories_for(tenant_slug: str, handle: str) -> list[str]:
    """The demo memories this user may see (the retrieval scope rules)."""
    spec = tenant_spec(tenant_slug)
    d = directory_for(tenant_slug, handle)
    out = []
    for m in spec.get("memories", []):
        if m["scope"] == "tenant":
            out.append(m["text"])
        elif m["scope"] == "team" and d.sender.role != "resident":
            if m["team"] in d.sender.teams:
                out.append(m["text"])
        elif m["scope"] == "user" and m["user"] == handle:
            out.append(m["text"])
    return out
