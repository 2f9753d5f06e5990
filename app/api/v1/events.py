"""/api/v1/events: inbound events from integrations (X-API-Key, per tenant).

An event enters the same pipeline as a chat message: stored first (idempotent on
client_event_id), then queued for the assistant.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from app.api.deps import ApiKeyPrincipal
from app.api.errors import AUTH_ERRORS, errors
from app.api.v1.messages import submit_out
from app.api.v1.schemas import EventIn, SubmitOut
from app.core import rate_limit
from app.services import messages

router = APIRouter(prefix="/events", tags=["integrations"])


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SubmitOut,
    responses={**AUTH_ERRORS, **errors(429)},
)
async def submit_event(body: EventIn, principal: ApiKeyPrincipal) -> SubmitOut:
    """Post an event (e.g. "Delivery from GreenFarm arrived at the back door") for
    the key's organisation. A resend with the same client_event_id is a no-op."""
    await rate_limit.check_event_submit(principal.tenant_id, principal.api_key_id)
    result = await messages.submit_event(
        principal.tenant_id, principal.api_key_id, body.text, body.client_event_id
    )
    return submit_out(result)
