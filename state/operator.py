"""The platform operator's pages: sign in, list and create organisations.

Separate from SessionState on purpose: an operator is not a tenant user, and never
reads tenant content. Both operator tokens stay on the server (nothing in browser
storage): a new tab signs in again.
"""

from __future__ import annotations

import contextlib
from typing import Any

import reflex as rx

from app.domain.errors import DomainError, Unauthorized
from app.services import auth as auth_service
from app.services import console
from state import routes
from state.format import parse_id


class OperatorExpired(Exception):
    pass


class OperatorState(rx.State):
    _access_token: str = ""
    _refresh_token: str = ""
    operator_signed_in: bool = False
    login_error: str = ""
    tenants: list[dict[str, str]] = []
    create_error: str = ""

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
        self.tenants = [
            {
                "id": str(t.id),
                "slug": t.slug,
                "name": t.name,
                "status": t.status,
                "users": f"{t.users:,}",
                "tokens": f"{t.tokens_this_month:,} / {t.monthly_token_budget:,}",
                "cost": f"${t.cost_this_month:.4f}",
            }
            for t in await console.tenant_details(op)
        ]

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
