"""The console's list pages: one search-pattern rule and one page count."""

from __future__ import annotations

import re

QUERY_MAX_CHARS = 100  # a search box never needs more; longer input is cut


def like_pattern(query: str) -> str:
    """A case-folded ILIKE/LIKE pattern that matches `query` anywhere, with the
    user's own `%`, `_` and backslashes taken literally."""
    escaped = re.sub(r"([\\%_])", r"\\\1", query.strip().lower()[:QUERY_MAX_CHARS])
    return f"%{escaped}%"


def page_count(total: int, size: int) -> int:
    """Pages needed for `total` rows, at least one (an empty list is one page)."""
    return max(1, -(-total // size))
