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
