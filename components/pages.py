"""Page registration: every page, its route, title and on_load (routes in
state/routes.py). Pages are functions returning components (no database, no models).

on_load only loads data, starts the tab's live listener and bounces signed-out
visitors: each data event handler checks the session and role itself
(state/session.py `guarded`).
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from components.admin import admin_page
from components.audit import chain_page
from components.auth import login_page, operator_login_page
from components.chat import chat_page
from components.operator import operator_page
from components.settings import settings_page
from components.work import alerts_page, approvals_page, requests_page, tasks_page
from state import routes
from state.admin import AdminState
from state.approvals import ApprovalsState
from state.audit import AuditState, ChainState
from state.chat import ChatState
from state.integrations import IntegrationsState
from state.live import LiveState
from state.manager import ManagerState
from state.memory import MemoryState
from state.operator import OperatorState
from state.people import PeopleState
from state.properties import PropertiesState
from state.push import PushState
from state.requests import RequestsState
from state.settings import SettingsState
from state.usage import UsageState
from state.work import AlertsState, TasksState


def signed_in(*loads: Any) -> list[Any]:
    """on_load of a signed-in page: its data, then live updates and push refresh."""
    return [*loads, LiveState.start_live, PushState.sync_push]


def register(app: rx.App) -> None:
    app.add_page(login_page, route=routes.LOGIN, title="Sign in · Switchboard")
    app.add_page(
        chat_page,
        route=routes.CHAT,
        title="Switchboard",
        on_load=signed_in(ChatState.load),
    )
    app.add_page(
        tasks_page,
        route=routes.TASKS,
        title="Tasks · Switchboard",
        on_load=signed_in(TasksState.load_tasks),
    )
    app.add_page(
        alerts_page,
        route=routes.ALERTS,
        title="Alerts · Switchboard",
        on_load=signed_in(AlertsState.load_alerts),
    )
    app.add_page(
        requests_page,
        route=routes.REQUESTS,
        title="My requests · Switchboard",
        on_load=signed_in(RequestsState.load_requests),
    )
    app.add_page(
        approvals_page,
        route=routes.APPROVALS,
        title="Approvals · Switchboard",
        on_load=signed_in(ApprovalsState.load_approvals),
    )
    app.add_page(
        settings_page,
        route=routes.SETTINGS,
        title="Settings · Switchboard",
        on_load=signed_in(SettingsState.load_settings),
    )
    app.add_page(
        admin_page,
        route=routes.ADMIN,
        title="Admin · Switchboard",
        on_load=signed_in(
            AdminState.load_admin,
            ManagerState.load_manager,
            PeopleState.load_people,
            AuditState.load_audit,
            MemoryState.load_memory,
            PropertiesState.load_properties,
            UsageState.load_usage,
            IntegrationsState.load_keys,
        ),
    )
    app.add_page(
        chain_page,
        route=routes.ADMIN_CHAIN,
        title="Audit chain · Switchboard",
        on_load=signed_in(ChainState.load_chain),
    )
    app.add_page(
        operator_login_page,
        route=routes.OPERATOR_LOGIN,
        title="Operator sign in · Switchboard",
    )
    app.add_page(
        operator_page,
        route=routes.OPERATOR,
        title="Organisations · Switchboard",
        on_load=OperatorState.load_tenants,
    )
