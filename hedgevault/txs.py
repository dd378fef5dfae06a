"""Old import path of the senders, kept for the tests and scripts that import it: the code lives in
``hedgevault.chain.sending``."""

from __future__ import annotations

from hedgevault.chain.sending import Buildable, eip1559_fees, send, send_signed

__all__ = ["Buildable", "eip1559_fees", "send", "send_signed"]
