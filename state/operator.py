"""The platform operator's pages: sign in, list and create organisations, suspend
and resume them, and set their plan limits (token budget, seats).

Separate from SessionState on purpose: an operator is not a tenant user, and never
reads tenant content. Both operator tokens stay on the server (nothing in browser
storage): a new tab signs in again.
"""

from __future__ import annotations

import contextlib
from typing import Any

import reflex as rx

from app.domain.errors import DomainError, Unauthorized
from app.domain.plan import token_limit
from app.services import auth as auth_service
from app.services import console
from state import routes
from state.format import parse_id


class OperatorExpired(Exception):
    pass


def _limit(typed: str) -> int | None:
    cleaned = typed.replace(",", "").replace(" ", "").strip()
    return int(cleaned) if cleaned else None


def _tenant_row(t: console.TenantDetail) -> dict[str, str]:
    limit = token_limit(t.monthly_token_budget, t.plan_token_budget).tokens
    seats = f" of {t.plan_seats:,}" if t.plan_seats is not None else ""
    return {
        "id": str(t.id),
        "slug": t.slug,
        "name": t.name,
        "status": t.status,
        "users": f"{t.users:,}",
        "seats": f"{t.active_users:,}{seats}",
        "tokens": f"{t.tokens_this_month:,} / {limit:,}",
        "cost": f"${t.cost_this_month:.4f}",
        "plan": (
            "no limits"
            if t.plan_token_budget is None and t.plan_seats is None
            else " · ".join(
                x
                for x in (
                    f"{t.plan_token_budget:,} tokens"
                    if t.plan_token_budget is not None
                    else "",
                    f"{t.plan_seats:,} seats" if t.plan_seats is not None else "",
                )
                if x
            )
        ),
        "plan_budget": "" if t.plan_token_budget is None else str(t.plan_token_budget),
        "plan_seats": "" if t.plan_seats is None else str(t.plan_seats),
    }


class OperatorState(rx.State):
    _access_token: str = ""
    _refresh_token: str = ""
    operator_signed_in: bool = False
    login_error: str = ""
    tenants: list[dict[str, str]] = []
    create_error: str = ""
    # The plan dialog: the organisation being edited and the two limits as typed
    # ("" = no limit).
    plan_open: bool = False
    plan_tenant: str = ""
    plan_slug: str = ""
    plan_budget: str = ""
    plan_seats: str = ""
    plan_error: str = ""

    async def _operator(self) -> Any:
        auth = auth_service
        if self._access_token:
            try:
                return auth.operator_from_access_token(self._access_token)
            except Unauthorized:
                self._access_token = ""
        if self._refresh_token:
            try:
                pair = await auth.operator_refresh(self._refresh_token)
            except DomainError:
                pair = None
            if pair is not None:
                self._access_token = pair.access_token
                self._refresh_token = pair.refresh_token
                return auth.operator_from_access_token(pair.access_token)
        self._access_token = self._refresh_token = ""
        self.operator_signed_in = False
        raise OperatorExpired

    @rx.event
    async def operator_login(self, form: dict[str, Any]) -> Any:
        email = str(form.get("email", "")).strip()
        password = str(form.get("password", ""))
        try:
            pair = await auth_service.operator_login(
                email, password, self.router.session.client_ip or "reflex"
            )
        except DomainError as exc:
            self.login_error = exc.message
            return None
        self.login_error = ""
        self._access_token = pair.access_token
        self._refresh_token = pair.refresh_token
        self.operator_signed_in = True
        return rx.redirect(routes.OPERATOR)

    @rx.event
    async def operator_logout(self) -> Any:
        if self._refresh_token:
            with contextlib.suppress(DomainError):
                await auth_service.operator_logout(self._refresh_token)
        self.reset()
        return rx.redirect(routes.OPERATOR_LOGIN)

    @rx.event
    async def load_tenants(self) -> Any:
        try:
            op = await self._operator()
        except OperatorExpired:
            return rx.redirect(routes.OPERATOR_LOGIN)
        try:
            await self._reload(op)
        except DomainError as exc:
            return rx.toast.error(exc.message)
        return None

    async def _reload(self, op: Any) -> None:
        self.tenants = [_tenant_row(t) for t in await console.tenant_details(op)]

    @rx.event
    async def open_plan(self, tenant_id: str) -> Any:
        try:
            await self._operator()
        except OperatorExpired:
            return rx.redirect(routes.OPERATOR_LOGIN)
        row = next((t for t in self.tenants if t["id"] == tenant_id), None)
        if row is None:
            return rx.toast.error("No such organisation.")
        self.plan_tenant, self.plan_slug = tenant_id, row["slug"]
        self.plan_budget, self.plan_seats = row["plan_budget"], row["plan_seats"]
        self.plan_error, self.plan_open = "", True
        return None

    @rx.event
    def close_plan(self) -> None:
        self.plan_open = False

    @rx.event
    def set_plan_budget(self, value: str) -> None:
        self.plan_budget = str(value)[:20]

    @rx.event
    def set_plan_seats(self, value: str) -> None:
        self.plan_seats = str(value)[:20]

    @rx.event
    async def save_plan(self) -> Any:
        try:
            op = await self._operator()
        except OperatorExpired:
            return rx.redirect(routes.OPERATOR_LOGIN)
        try:
            budget, seats = _limit(self.plan_budget), _limit(self.plan_seats)
        except ValueError:
            self.plan_error = "Limits are whole numbers; leave empty for no limit."
            return None
        try:
            await console.set_plan(op, parse_id(self.plan_tenant), budget, seats)
        except DomainError as exc:
            self.plan_error = exc.message
            return None
        self.plan_open = False
        await self._reload(op)
        return rx.toast.success(f"Saved the plan of {self.plan_slug}.")

    @rx.event
    async def set_suspended(self, tenant_id: str, suspended: bool) -> Any:
        try:
            op = await self._operator()
        except OperatorExpired:
            return rx.redirect(routes.OPERATOR_LOGIN)
        try:
            row = await console.set_tenant_status(
                op, parse_id(tenant_id), bool(suspended)
            )
        except DomainError as exc:
            return rx.toast.error(exc.message)
        await self._reload(op)
        verb = "Suspended" if row.status == "suspended" else "Resumed"
        return rx.toast.success(f"{verb} {row.slug}.")

    @rx.event
    async def create_tenant(self, form: dict[str, Any]) -> Any:
        try:
            op = await self._operator()
        except OperatorExpired:
            return rx.redirect(routes.OPERATOR_LOGIN)
        try:
            row = await console.create_tenant(
                op,
                slug=str(form.get("slug", "")),
                name=str(form.get("name", "")),
                kind=str(form.get("kind", "") or "other"),
                timezone=str(form.get("timezone", "") or "UTC"),
                admin_email=str(form.get("admin_email", "")),
                admin_name=str(form.get("admin_name", "")),
                admin_password=str(form.get("admin_password", "")),
            )
        except DomainError as exc:
            self.create_error = exc.message
            return None
        self.create_error = ""
        await self._reload(op)
        return rx.toast.success(f"Created {row.slug}.")
