"""A tenant's time zone: refused when it is set wrongly, read safely when stored."""

from __future__ import annotations

import pytest

from app.domain.errors import Invalid
from app.domain.timezones import parse_timezone, zone_or_utc


@pytest.mark.parametrize("name", ["Europe/London", "America/New_York", "UTC"])
def test_valid_zones(name: str) -> None:
    assert parse_timezone(name).key == name


@pytest.mark.parametrize(
    "name", ["Europe/Lodnon", "", "Mars/Olympus", "../../etc/passwd", "/etc/localtime"]
)
def test_typos_and_paths_are_refused_with_a_clear_message(name: str) -> None:
    with pytest.raises(Invalid) as err:
        parse_timezone(name)
    assert "IANA" in err.value.message


def test_a_stored_bad_zone_reads_as_utc() -> None:
    assert zone_or_utc("Europe/Lodnon").key == "UTC"
    assert zone_or_utc(None).key == "UTC"
    assert zone_or_utc("Asia/Tokyo").key == "Asia/Tokyo"
