"""Outbox background work, run by the worker's schedules (officeapp.worker)."""

from __future__ import annotations

from officeapp.outbox.drain import drain_all, purge_delivered


def drain_all_consumers() -> int:
    """Every second or so from the ticker: returns the number of events delivered."""
    return sum(r.delivered for r in drain_all())


def purge_delivered_events() -> int:
    return purge_delivered()
