"""Test-only door around the append-only triggers, so tests can play the attacker."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection

_migration = importlib.import_module("officeapp.audit.migrations.0004_append_only_triggers")


@contextmanager
def triggers_off() -> Iterator[None]:
    """Drop (SQLite) or disable (PostgreSQL) the triggers for the block, then put them back."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Deferred foreign-key checks pending in the test's transaction would block ALTER TABLE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        else:
            for sql in _migration.SQLITE_BACKWARD:
                cursor.execute(sql)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")
            else:
                for sql in _migration.SQLITE_FORWARD:
                    cursor.execute(sql)


@pytest.fixture
def tamper() -> Any:
    """`with tamper(): ...` runs raw SQL past the append-only triggers."""
    return triggers_off


@pytest.fixture
def chained(cast: Any) -> Any:
    """The cast's org events, chained."""
    from officeapp.audit.chain import chain_pending

    chain_pending(settle_seconds=0)
    return cast


@pytest.fixture
def sign_in_verified(sign_in: Any) -> Any:
    """Sign in and pass the second factor, as the three administrators must before any page."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    def _sign_in(user: Any) -> Any:
        client = sign_in(user)
        device, _ = TOTPDevice.objects.get_or_create(user=user, name="test", defaults={"confirmed": True})
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client

    return _sign_in
