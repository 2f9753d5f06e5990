"""/api/v1/messages: talk to the assistant (the caller's own conversation)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from app.api.deps import CurrentActor
from app.api.errors import AUTH_ERRORS, errors
from app.api.v1.schemas import MessageIn, MessageOut, SubmitOut
from app.core import rate_limit
from app.core.db import tenant_session
from app.services import messages
from app.services.access import access_message
from app.services.conversation import MAX_PAGE, PAGE_SIZE, conversation_page
from app.services.messages import SubmitResult

router = APIRouter(prefix="/messages", tags=["messages"])


def submit_out(result: SubmitResult) -> SubmitOut:
    """The response for a submitted message (the id comes from the domain layer,
    not from the client)."""
    return SubmitOut(
        message_id=result.message_id,
        conversation_id=result.conversation_id,
        created=result.created,
        status=result.status,
    )


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SubmitOut,
    responses={**AUTH_ERRORS, **errors(429)},
)
async def submit(body: MessageIn, actor: CurrentActor) -> SubmitOut:
    """Send a message to the assistant. Idempotent on client_message_id: a resend
    returns the first message (created = false). The reply arrives later in
    GET /api/v1/messages (and as a live event / push notification)."""
    await rate_limit.check_message_submit(actor.tenant_id, actor.user_id)
    result = await messages.submit_message(actor, body.body, body.client_message_id)
    return submit_out(result)


@router.get(
    "", response_model=list[MessageOut], responses={**AUTH_ERRORS, **errors(404)}
)
async def conversation(
    actor: CurrentActor,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = PAGE_SIZE,
    before: uuid.UUID | None = None,
) -> list[MessageOut]:
    """The caller's conversation, oldest first: their messages and the
    assistant's replies (the last `limit`; with `before`, the `limit` just older
    than that message of the caller's own conversation: pass the first id of a
    page to get the page above it)."""
    page = await conversation_page(actor, before=before, limit=limit)
    return [MessageOut.model_validate(m) for m in page.messages]


@router.get(
    "/{message_id}", response_model=MessageOut, responses={**AUTH_ERRORS, **errors(404)}
)
async def get_message(message_id: uuid.UUID, actor: CurrentActor) -> MessageOut:
    """One message of the caller's own conversation (e.g. to poll its status)."""
    async with tenant_session(actor.tenant_id) as s:
        row = await access_message(s, actor, message_id)
    return MessageOut.model_validate(row)
