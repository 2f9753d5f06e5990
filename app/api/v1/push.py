"""/api/v1/push: Web Push subscriptions of the signed-in user's browsers."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from app.api.deps import CurrentActor
from app.api.errors import AUTH_ERRORS, COMMON_ERRORS, errors
from app.api.v1.schemas import PushSubscriptionIn, PushSubscriptionOut, VapidKeyOut
from app.core.secrets import vapid_public_key_b64
from app.services import push_subscriptions

router = APIRouter(prefix="/push", tags=["push"])


@router.get("/vapid-public-key", response_model=VapidKeyOut, responses=COMMON_ERRORS)
async def vapid_public_key() -> VapidKeyOut:
    """The applicationServerKey for PushManager.subscribe() (public, no sign-in)."""
    return VapidKeyOut(public_key=vapid_public_key_b64())


@router.get(
    "/subscriptions", response_model=list[PushSubscriptionOut], responses=AUTH_ERRORS
)
async def list_subscriptions(actor: CurrentActor) -> list[PushSubscriptionOut]:
    rows = await push_subscriptions.list_subscriptions(actor)
    return [PushSubscriptionOut.model_validate(r) for r in rows]


@router.post(
    "/subscriptions",
    status_code=status.HTTP_201_CREATED,
    response_model=PushSubscriptionOut,
    responses=AUTH_ERRORS,
)
async def add_subscription(
    body: PushSubscriptionIn, actor: CurrentActor
) -> PushSubscriptionOut:
    """Store the browser's PushSubscription.toJSON(). The endpoint must be an https
    URL of a public push service; the same endpoint again updates it."""
    row = await push_subscriptions.add_subscription(
        actor, body.endpoint, body.keys.p256dh, body.keys.auth
    )
    return PushSubscriptionOut.model_validate(row)


@router.delete(
    "/subscriptions/{subscription_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**AUTH_ERRORS, **errors(404)},
)
async def remove_subscription(
    subscription_id: uuid.UUID, actor: CurrentActor
) -> Response:
    await push_subscriptions.remove_subscription(actor, subscription_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
