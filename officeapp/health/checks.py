"""Health checks officeapp.health itself provides (others register theirs from their own apps)."""

from __future__ import annotations

from django.db import connection


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
