"""Webhook work run by the worker (officeapp.worker): the ticker calls `deliver_webhooks` every second."""

from __future__ import annotations

from officeapp.integration.webhooks import dispatcher


def deliver_webhooks() -> None:
    """Every second from the ticker: make sure this process's webhook feeder thread is running. The
    feeder claims, sends and records on its own thread, so a slow receiver never holds the ticker
    (which also drains the outbox and chains the audit log)."""
    dispatcher().start()
