"""Run booking calls at the same moment from threads, on either database (the booking race tests
and the booking benchmark).

SQLite: the test database is in memory with a shared cache, where a second writer gets "database
table is locked" at once instead of waiting; `sqlite_on_file` moves it to a file for the block, so
the threads queue on the write lock (WAL, BEGIN IMMEDIATE and busy_timeout, as officeapp.settings
configures SQLite) the way the server's threads do. PostgreSQL needs nothing: each thread opens its
own connection and the exclusion constraint decides.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections

from meetings.errors import MeetingError

OK = "ok"


def at_once(calls: list[Callable[[], Any]]) -> list[str]:
    """Run the calls in threads released together; "ok" or the MeetingError sentence of each, in
    order (anything else is reported as "unexpected: …" so a test shows it instead of hanging)."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = [""] * len(calls)

    def run(n: int) -> None:
        try:
            barrier.wait()
            calls[n]()
            outcomes[n] = OK
        except MeetingError as exc:
            outcomes[n] = exc.message
        except Exception as exc:  # noqa: BLE001 - reported, not swallowed: the test asserts on it
            outcomes[n] = f"unexpected: {exc!r}"
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@contextmanager
def sqlite_on_file(directory: Path) -> Iterator[None]:
    """Move an in-memory SQLite test database to a file for the block, then back (the block's
    writes stay in the file: the tests using this are transactional and flush afterwards)."""
    conn = connections[DEFAULT_DB_ALIAS]
    if conn.vendor != "sqlite" or not conn.is_in_memory_db():
        yield
        return
    memory_name = conn.settings_dict["NAME"]
    file_name = directory / "booking-race.sqlite3"
    conn.ensure_connection()
    keeper = sqlite3.connect(memory_name, uri=True)
    target = sqlite3.connect(file_name)
    conn.connection.backup(target)
    target.close()
    conn.settings_dict["NAME"] = str(file_name)
    conn.close()
    try:
        yield
    finally:
        conn.close()
        conn.settings_dict["NAME"] = memory_name
        conn.ensure_connection()
        keeper.close()
