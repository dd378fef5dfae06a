"""Errors of the simulator (subclasses of ``HedgevaultError``: the CLI prints them and exits 2)."""

from __future__ import annotations

from hedgevault.errors import HedgevaultError


class SimulationError(HedgevaultError):
    """The simulation cannot run as asked (bad flags, a chain that refuses the setup)."""


class ScenarioError(SimulationError):
    """A scenario (GBM parameters or a CSV of prices) that cannot be used; the message says where and why."""
