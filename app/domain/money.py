"""Amounts in an organisation's currency: the codes an organisation may choose and
how an amount reads (approvals, refusals, the console). One place, so "250" never
shows without its currency."""

from __future__ import annotations

DEFAULT_CURRENCY = "USD"
# ISO 4217 code -> (prefix, decimals). Codes without a widely read symbol are
# written out ("CHF 1,200.00").
CURRENCIES: dict[str, tuple[str, int]] = {
    "USD": ("$", 2),
    "EUR": ("€", 2),
    "GBP": ("£", 2),
    "CAD": ("CA$", 2),
    "AUD": ("A$", 2),
    "NZD": ("NZ$", 2),
    "MXN": ("MX$", 2),
    "BRL": ("R$", 2),
    "INR": ("₹", 2),
    "JPY": ("¥", 0),
    "CNY": ("CN¥", 2),
    "HKD": ("HK$", 2),
    "SGD": ("S$", 2),
    "CHF": ("CHF ", 2),
    "SEK": ("SEK ", 2),
    "NOK": ("NOK ", 2),
    "DKK": ("DKK ", 2),
    "PLN": ("PLN ", 2),
    "ZAR": ("ZAR ", 2),
}


def currency_or_default(code: object) -> str:
    """A stored code, or the default when it is missing or not offered."""
    text = str(code or "").strip().upper()
    return text if text in CURRENCIES else DEFAULT_CURRENCY


def format_money(amount: float, currency: str) -> str:
    """`amount` as the organisation reads it: "$1,250.00", "€80.50", "¥3,000"."""
    prefix, decimals = CURRENCIES[currency_or_default(currency)]
    sign = "-" if amount < 0 else ""
    return f"{sign}{prefix}{abs(amount):,.{decimals}f}"
