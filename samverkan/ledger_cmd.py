"""Provides ``samverkan ledger export|verify`` (offline audit of the transparency ledger)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the ``ledger`` subcommand (filled in by the resources bot)."""
