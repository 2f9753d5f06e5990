"""notify: send a message to people now."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from app.domain.actions.base import (
    MAX_RECIPIENTS,
    ActionInput,
    ActionSpec,
    CheckContext,
    Checked,
    Effects,
    Payload,
    Ref,
)


class NotifyAction(ActionInput):
    """Send a message to people."""

    type: Literal["notify"]
    recipients: list[Ref] = Field(min_length=1, max_length=MAX_RECIPIENTS)
    message: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)
    ]


class NotifyPayload(Payload):
    recipient_user_ids: list[uuid.UUID]
    refs: list[str]
    message: str
    title: str


def check(a: NotifyAction, ctx: CheckContext) -> Checked[NotifyPayload]:
    payload = NotifyPayload(
        recipient_user_ids=ctx.recipients(a.recipients),
        refs=list(a.recipients),
        message=a.message,
        title=f"From {ctx.sender.name}",
    )
    names = ", ".join(ctx.resolve(r).label() for r in a.recipients)
    return Checked(payload, f"Notify {names}")


async def execute(p: NotifyPayload, fx: Effects) -> dict[str, str]:
    await fx.notify(
        p.recipient_user_ids,
        kind="notify",
        title=p.title or "New message",
        body=p.message,
    )
    return {}


SPEC = ActionSpec(
    type="notify",
    order=1,
    label="Send a message",
    verb="send that message",
    input=NotifyAction,
    payload=NotifyPayload,
    check=check,
    execute=execute,
)
