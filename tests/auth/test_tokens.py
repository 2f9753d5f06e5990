"""Access tokens: only ES256 tokens we signed, for us, still valid, are accepted."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwt
from joserfc.jwk import ECKey

from app.core import tokens
from app.core.settings import get_settings
from app.core.tokens import (
    actor_from_access_token,
    issue_access_token,
    issue_operator_token,
    operator_from_access_token,
)
from app.domain.errors import Unauthorized

TENANT = uuid.uuid4()
USER = uuid.uuid4()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(**over: object) -> dict[str, object]:
    s = get_settings()
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": s.jwt_issuer,
        "aud": s.jwt_audience,
        "iat": now,
        "exp": now + 300,
        "sub": str(USER),
        "tid": str(TENANT),
        "role": "manager",
        "typ": "access",
    }
    claims.update(over)
    return claims


def _kid() -> str:
    return tokens._keys().kid


def _sign_with_platform_key(claims: dict[str, object]) -> str:
    return jwt.encode(
        {"alg": "ES256", "kid": _kid()},
        claims,
        tokens._keys().signing,
        algorithms=["ES256"],
    )


@pytest.fixture(autouse=True)
def _keys(stack: None) -> None:
    tokens.reset_key_cache()


def test_valid_token_gives_actor() -> None:
    token, ttl = issue_access_token(TENANT, USER, "manager")
    actor = actor_from_access_token(token)
    assert (actor.tenant_id, actor.user_id, actor.role) == (TENANT, USER, "manager")
    assert ttl == get_settings().access_token_ttl_s


def test_header_pins_es256_and_kid() -> None:
    token, _ = issue_access_token(TENANT, USER, "admin")
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["alg"] == "ES256"
    assert header["kid"] == _kid()


def test_expired_token_rejected() -> None:
    token, _ = issue_access_token(TENANT, USER, "manager", ttl_s=-120)
    with pytest.raises(Unauthorized):
        actor_from_access_token(token)


def test_a_verified_token_is_remembered_until_it_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token, _ = issue_access_token(TENANT, USER, "manager", ttl_s=60)
    decoded: list[str] = []
    decode = tokens._decode

    def counting(text: str, typ: str) -> dict[str, object]:
        decoded.append(text)
        return decode(text, typ)

    monkeypatch.setattr(tokens, "_decode", counting)
    first = actor_from_access_token(token)
    assert actor_from_access_token(token) == first and decoded == [token]
    # Past exp + the leeway the signature check allows: checked again, refused.
    later = time.time() + 60 + tokens.LEEWAY_S + 5
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(Unauthorized):
        actor_from_access_token(token)
    assert decoded == [token, token]


def test_tampered_token_rejected() -> None:
    token, _ = issue_access_token(TENANT, USER, "resident")
    header, payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["role"] = "admin"
    forged = f"{header}.{_b64(json.dumps(claims).encode())}.{sig}"
    with pytest.raises(Unauthorized):
        actor_from_access_token(forged)


def test_tampered_signature_rejected() -> None:
    token, _ = issue_access_token(TENANT, USER, "resident")
    header, payload, sig = token.split(".")
    bad = sig[:-4] + ("AAAA" if not sig.endswith("AAAA") else "BBBB")
    with pytest.raises(Unauthorized):
        actor_from_access_token(f"{header}.{payload}.{bad}")


def test_wrong_audience_rejected() -> None:
    token = _sign_with_platform_key(_claims(aud="someone-else"))
    with pytest.raises(Unauthorized):
        actor_from_access_token(token)


def test_wrong_issuer_rejected() -> None:
    token = _sign_with_platform_key(_claims(iss="evil"))
    with pytest.raises(Unauthorized):
        actor_from_access_token(token)


def test_missing_expiry_rejected() -> None:
    claims = _claims()
    del claims["exp"]
    with pytest.raises(Unauthorized):
        actor_from_access_token(_sign_with_platform_key(claims))


def test_alg_none_rejected() -> None:
    header = _b64(json.dumps({"alg": "none", "kid": _kid(), "typ": "JWT"}).encode())
    payload = _b64(json.dumps(_claims(role="admin")).encode())
    for token in (f"{header}.{payload}.", f"{header}.{payload}.x"):
        with pytest.raises(Unauthorized):
            actor_from_access_token(token)


def test_wrong_key_rejected() -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    pem = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key = ECKey.import_key(pem)
    # Same kid as ours: the signature still has to verify.
    token = jwt.encode(
        {"alg": "ES256", "kid": _kid()}, _claims(), key, algorithms=["ES256"]
    )
    with pytest.raises(Unauthorized):
        actor_from_access_token(token)
    unknown_kid = jwt.encode(
        {"alg": "ES256", "kid": "other"}, _claims(), key, algorithms=["ES256"]
    )
    with pytest.raises(Unauthorized):
        actor_from_access_token(unknown_kid)


def test_hs256_signed_with_public_key_rejected() -> None:
    # The classic confusion attack: HMAC over the token with the (public) PEM or
    # JWK of our verifying key as the secret, hand-made since libraries refuse it.
    public = tokens._keys().signing
    secrets = [
        public.as_pem(private=False),
        json.dumps(public.as_dict(private=False)).encode(),
    ]
    for secret in secrets:
        header = _b64(json.dumps({"alg": "HS256", "kid": _kid()}).encode())
        payload = _b64(json.dumps(_claims(role="admin")).encode())
        signing_input = f"{header}.{payload}".encode()
        sig = _b64(hmac.new(secret, signing_input, hashlib.sha256).digest())
        with pytest.raises(Unauthorized):
            actor_from_access_token(f"{header}.{payload}.{sig}")


def test_garbage_rejected() -> None:
    for token in ("", "abc", "a.b.c", "a.b", "x" * 5000):
        with pytest.raises(Unauthorized):
            actor_from_access_token(token)


def test_operator_and_user_tokens_do_not_mix() -> None:
    op_token, _ = issue_operator_token(USER)
    assert operator_from_access_token(op_token).operator_id == USER
    with pytest.raises(Unauthorized):
        actor_from_access_token(op_token)
    user_token, _ = issue_access_token(TENANT, USER, "admin")
    with pytest.raises(Unauthorized):
        operator_from_access_token(user_token)


def test_unknown_role_rejected() -> None:
    with pytest.raises(Unauthorized):
        actor_from_access_token(_sign_with_platform_key(_claims(role="superuser")))
