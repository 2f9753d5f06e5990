"""Secrets generated on first run into the data dir (0600), unless the environment
supplies them. Never committed; production sets them through the environment."""

from __future__ import annotations

import base64
import os
import secrets as pysecrets
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from app.core.settings import Settings, get_settings


def _load_or_create(path: Path, make: Callable[[], str]) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    value = make()
    # O_EXCL: two processes starting at once agree on one value.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(value)
    return value


def _ec_private_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def app_db_password(settings: Settings | None = None) -> str:
    s = settings or get_settings()
    return _load_or_create(
        s.secrets_dir / "app_db_password", lambda: pysecrets.token_urlsafe(24)
    )


def jwt_private_key_pem(settings: Settings | None = None) -> str:
    s = settings or get_settings()
    if s.jwt_private_key:
        return s.jwt_private_key.replace("\\n", "\n")
    return _load_or_create(s.secrets_dir / "jwt_es256.pem", _ec_private_pem)


def vapid_private_key_pem(settings: Settings | None = None) -> str:
    s = settings or get_settings()
    if s.vapid_private_key:
        return s.vapid_private_key.replace("\\n", "\n")
    return _load_or_create(s.secrets_dir / "vapid_private.pem", _ec_private_pem)


def vapid_public_key_b64(settings: Settings | None = None) -> str:
    """The application server key browsers need (uncompressed point, base64url)."""
    pem = vapid_private_key_pem(settings)
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    raw = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
