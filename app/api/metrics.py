"""GET /api/metrics: Prometheus text for operators and the monitoring network.

Allowed: a platform operator's access token (Authorization: Bearer), or a caller
whose own address is in METRICS_ALLOW_NETWORKS (default loopback: a Prometheus on
the same host scraping the backend port directly). A request that came through a
proxy carries X-Forwarded-For or Forwarded and is never taken as local, since the
proxy's own loopback address says nothing about who is behind it. Everyone else,
tenant users and admins included, gets 403 JSON: the figures span every tenant.
"""

from __future__ import annotations

from ipaddress import ip_address
from typing import Annotated

from fastapi import APIRouter, Request, Security
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials

from app.api.deps import bearer
from app.api.errors import errors
from app.core.metrics_export import CONTENT_TYPE, scrape
from app.core.settings import get_settings
from app.core.tokens import operator_from_access_token
from app.domain.errors import DomainError, Forbidden

router = APIRouter()
FORBIDDEN = (
    "Metrics are for platform operators: send an operator's access token, or scrape "
    "from an allowed network (METRICS_ALLOW_NETWORKS)."
)


def from_allowed_network(request: Request) -> bool:
    if "x-forwarded-for" in request.headers or "forwarded" in request.headers:
        return False
    try:
        addr = ip_address(request.client.host if request.client else "")
    except ValueError:
        return False
    return any(addr in net for net in get_settings().metrics_networks)


def is_operator(creds: HTTPAuthorizationCredentials | None) -> bool:
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        return False
    try:
        operator_from_access_token(creds.credentials)
    except DomainError:
        return False
    return True


@router.get(
    "/api/metrics",
    tags=["health"],
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text"},
        **errors(403, 503),
    },
)
async def prometheus_metrics(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> Response:
    # A token that is not an operator's (a tenant user's, expired, forged) is
    # refused even from an allowed network: it says who is asking, and it is
    # not an operator.
    if creds is not None and not is_operator(creds):
        raise Forbidden(FORBIDDEN)
    if creds is None and not from_allowed_network(request):
        raise Forbidden(FORBIDDEN)
    return Response(await scrape(), media_type=CONTENT_TYPE)
