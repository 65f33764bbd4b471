"""Webhook work run by the worker (officeapp.worker): the ticker calls `deliver_webhooks` every second."""

from __future__ import annotations

from officeapp.integration.webhooks import dispatcher


def deliver_webhooks() -> int:
    """Write finished requests' results and start due deliveries; never waits for a receiver (a slow
    endpoint must not hold the ticker, which also drains the outbox). Returns how many started."""
    return dispatcher().tick()
