"""Background work of the accounts app, run by the worker's schedules (officeapp.worker)."""

from __future__ import annotations

from officeapp.accounts.services import forget_stale_sign_in_failures


def forget_stale_failures() -> int:
    """Hourly: drop failure counters nobody needs any more; returns how many went."""
    return forget_stale_sign_in_failures()
