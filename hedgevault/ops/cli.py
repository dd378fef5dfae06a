"""The `hedgevault deposit/withdraw/buy/sell/claim/status` subcommand(s): registered by hedgevault.cli."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's subcommand(s) to the `hedgevault` parser (placeholder until built)."""
