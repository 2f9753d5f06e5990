"""Amounts read in the organisation's currency, and a stored currency that is not
offered never breaks a page."""

from __future__ import annotations

import pytest

from app.domain.actions.create_task import CreateTaskAction, approval
from app.domain.money import CURRENCIES, currency_or_default, format_money
from app.domain.tenant_policy import TenantPolicy


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (450, "USD", "$450.00"),
        (1250.5, "EUR", "€1,250.50"),
        (200, "GBP", "£200.00"),
        (3000.4, "JPY", "¥3,000"),
        (99.999, "CHF", "CHF 100.00"),
        (-12.5, "CAD", "-CA$12.50"),
        (0, "ZAR", "ZAR 0.00"),
        (10, "XYZ", "$10.00"),  # not offered: the default, never a crash
        (10, "", "$10.00"),
    ],
)
def test_format_money(amount: float, currency: str, shown: str) -> None:
    assert format_money(amount, currency) == shown


def test_every_offered_currency_is_an_iso_code_with_a_prefix() -> None:
    for code, (prefix, decimals) in CURRENCIES.items():
        assert len(code) == 3 and code.isupper() and prefix and decimals in (0, 2)


@pytest.mark.parametrize(
    ("stored", "currency"),
    [(None, "USD"), ("eur", "EUR"), (" GBP ", "GBP"), ("bitcoin", "USD"), (7, "USD")],
)
def test_the_policy_reads_its_currency(stored: object, currency: str) -> None:
    assert currency_or_default(stored) == currency
    assert TenantPolicy.from_dict({"currency": stored}).currency == currency


def test_a_purchase_refusal_names_the_threshold_in_the_currency() -> None:
    policy = TenantPolicy.from_dict({"currency": "GBP", "purchase_approval_over": 150})
    action = CreateTaskAction.model_validate(
        {"type": "create_task", "title": "Buy a boiler", "cost": 900}
    )
    assert approval(action, policy) == (
        "purchases over £150.00 need a manager's approval"
    )
    assert approval(action.model_copy(update={"cost": 100}), policy) is None
