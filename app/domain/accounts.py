"""What a valid account looks like: email, handle, name, password and slug rules,
checked by every service that creates or changes one."""

from __future__ import annotations

import re

from app.domain.errors import Invalid
from app.domain.roles import ROLES

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
HANDLE_RE = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,61}[a-z0-9])?$")
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
MIN_PASSWORD = 10
MAX_EMAIL = 254
MAX_NAME = 200


def check_email(email: str, what: str = "The email address") -> str:
    email = email.strip().lower()
    if not EMAIL_RE.match(email) or len(email) > MAX_EMAIL:
        raise Invalid(f"{what} is not valid.")
    return email


def check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise Invalid(f"The name must have 1-{MAX_NAME} characters.")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"The password must have at least {MIN_PASSWORD} characters.")
    return password


def check_role(role: str) -> str:
    if role not in ROLES:
        raise Invalid(f"role must be {', '.join(ROLES[:-1])} or {ROLES[-1]}.")
    return role


def check_handle(handle: str) -> str:
    handle = handle.strip().lower()
    if not HANDLE_RE.match(handle):
        raise Invalid("The handle must be lowercase letters, digits, . _ or -.")
    return handle


def check_slug(slug: str) -> str:
    slug = slug.strip().lower()
    if not SLUG_RE.match(slug):
        raise Invalid("The slug must be lowercase letters, digits and dashes.")
    return slug
