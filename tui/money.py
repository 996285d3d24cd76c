"""Provides ``show_amount``: an amount as the bots write it (``12 000 SEK``, ``12.50 hours``).

The TUI never imports the bots, so this mirrors ``bots.resources.model.show_amount`` for
the decimal strings the request cards carry (a test compares the two).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


def show_amount(amount: str | None, unit: str) -> str:
    """``"12000.00", "SEK"`` → ``"12 000 SEK"`` (narrow no-break spaces); None → ``"—"``."""
    if amount is None:
        return "—"
    try:
        minor = int((Decimal(amount) * 100).to_integral_value())
    except (InvalidOperation, ValueError):
        return f"{amount} {unit}".strip()
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    grouped = f"{whole:,}".replace(",", "\u202f")
    return f"{sign}{grouped}{f'.{cents:02d}' if cents else ''} {unit}".strip()
