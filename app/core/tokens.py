"""Access tokens: ES256 JWTs signed with the platform key (joserfc).

- The algorithm is pinned: only ES256 is accepted, so `alg: none` and HS256 signed
  with the public key (algorithm confusion) are rejected before any key is used.
- Every token carries a `kid`; verification looks the key up by kid. Rotation: put
  the new private key in JWT_PRIVATE_KEY (or the data dir) and the retired public
  keys (PEM) in `<data dir>/secrets/jwt_retired/*.pem` until their tokens expire.
- `iss`, `aud`, `exp`, `iat` and `sub` are required and checked; `typ` separates
  tenant user tokens from platform operator tokens, which never work for each other.

Verification is pure and cheap (no database, no Redis): it runs on every request and
every Reflex event. A user token that passed is remembered by its text until it
expires (an open tab's live listener checks its session at every update, and the
ES256 check was a seventh of a live delivery's CPU: bench/fanout_sockets.py).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from functools import lru_cache

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, GuestProtocol
from joserfc.jwt import JWTClaimsRegistry

from app.core.secrets import jwt_private_key_pem
from app.core.settings import get_settings
from app.domain.actor import Actor
from app.domain.errors import Unauthorized
from app.domain.roles import ROLES

ALGORITHM = "ES256"
# Seconds of clock skew accepted on exp/iat.
LEEWAY_S = 30
# Verified user tokens remembered: token text -> (actor, valid until).
VERIFIED_MAX = 10_000
_verified: dict[str, tuple[Actor, float]] = {}
USER_TOKEN = "access"
OPERATOR_TOKEN = "operator"


@dataclass(frozen=True)
class OperatorActor:
    """A platform operator: manages tenants, never sees tenant content."""

    operator_id: uuid.UUID

    @property
    def ref(self) -> str:
        return f"operator:{self.operator_id}"


@dataclass(frozen=True)
class _Keys:
    signing: ECKey
    kid: str
    verifying: dict[str, ECKey]


@lru_cache(maxsize=1)
def _keys() -> _Keys:
    settings = get_settings()
    private = ECKey.import_key(jwt_private_key_pem(settings))
    if private.curve_name != "P-256":
        raise RuntimeError("the JWT signing key must be an EC P-256 key (ES256)")
    kid = settings.jwt_key_id or private.thumbprint()
    verifying = {kid: ECKey.import_key(private.as_pem(private=False))}
    retired = settings.secrets_dir / "jwt_retired"
    if retired.is_dir():
        for path in sorted(retired.glob("*.pem")):
            key = ECKey.import_key(path.read_text())
            if key.curve_name == "P-256":
                verifying.setdefault(path.stem, key)
                verifying.setdefault(key.thumbprint(), key)
    return _Keys(signing=private, kid=kid, verifying=verifying)


def reset_key_cache() -> None:
    """Forget the loaded keys (after a rotation, and in tests)."""
    _keys.cache_clear()
    _verified.clear()


def _encode(claims: dict[str, object], ttl_s: int | None) -> tuple[str, int]:
    settings = get_settings()
    keys = _keys()
    ttl = ttl_s if ttl_s is not None else settings.access_token_ttl_s
    now = int(time.time())
    full = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
        **claims,
    }
    header = {"alg": ALGORITHM, "kid": keys.kid, "typ": "JWT"}
    return jwt.encode(header, full, keys.signing, algorithms=[ALGORITHM]), ttl


def issue_access_token(
    tenant_id: uuid.UUID, user_id: uuid.UUID, role: str, ttl_s: int | None = None
) -> tuple[str, int]:
    """A signed access token for a tenant user and its lifetime in seconds."""
    return _encode(
        {"sub": str(user_id), "tid": str(tenant_id), "role": role, "typ": USER_TOKEN},
        ttl_s,
    )


def issue_operator_token(
    operator_id: uuid.UUID, ttl_s: int | None = None
) -> tuple[str, int]:
    return _encode({"sub": str(operator_id), "typ": OPERATOR_TOKEN}, ttl_s)


def _resolve_key(guest: GuestProtocol) -> ECKey:
    header = guest.headers()
    if header.get("alg") != ALGORITHM:
        raise Unauthorized("Invalid token.")
    kid = header.get("kid")
    key = _keys().verifying.get(kid) if isinstance(kid, str) else None
    if key is None:
        raise Unauthorized("Invalid token.")
    return key


def _decode(token: str, typ: str) -> dict[str, object]:
    settings = get_settings()
    if not token or len(token) > 4096 or token.count(".") != 2:
        raise Unauthorized("Invalid token.")
    try:
        decoded = jwt.decode(token, _resolve_key, algorithms=[ALGORITHM])
        JWTClaimsRegistry(
            leeway=LEEWAY_S,
            iss={"essential": True, "value": settings.jwt_issuer},
            aud={"essential": True, "value": settings.jwt_audience},
            exp={"essential": True},
            iat={"essential": True},
            sub={"essential": True},
            typ={"essential": True, "value": typ},
        ).validate(decoded.claims)
    except Unauthorized:
        raise
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise Unauthorized("Invalid or expired token.") from exc
    if decoded.header.get("alg") != ALGORITHM:
        raise Unauthorized("Invalid token.")
    return dict(decoded.claims)


def _uuid(value: object) -> uuid.UUID:
    if not isinstance(value, str):
        raise Unauthorized("Invalid token.")
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise Unauthorized("Invalid token.") from exc


def actor_from_access_token(token: str) -> Actor:
    """The tenant user a valid access token speaks for; Unauthorized otherwise."""
    hit = _verified.get(token)
    if hit is not None:
        if time.time() <= hit[1]:
            return hit[0]
        _verified.pop(token, None)
    claims = _decode(token, USER_TOKEN)
    role = claims.get("role")
    if role not in ROLES:
        raise Unauthorized("Invalid token.")
    actor = Actor(
        tenant_id=_uuid(claims.get("tid")),
        user_id=_uuid(claims.get("sub")),
        role=str(role),
    )
    expires = claims.get("exp")
    if isinstance(expires, int | float):
        if len(_verified) >= VERIFIED_MAX:
            _verified.clear()  # a bound, not an LRU: refilled by the next checks
        _verified[token] = (actor, float(expires) + LEEWAY_S)
    return actor


def operator_from_access_token(token: str) -> OperatorActor:
    claims = _decode(token, OPERATOR_TOKEN)
    return OperatorActor(operator_id=_uuid(claims.get("sub")))
