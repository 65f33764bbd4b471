"""Run callers at the same moment, for the PostgreSQL race tests of every flow (发文, 收文, 督办, 传阅)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection

from workflows.acting import FlowError


def at_once(calls: list[Callable[[], Any]]) -> list[str]:
    """Run the calls in threads released together; "ok" or the FlowError message of each, in order.

    Each thread closes its own database connection, so the test database can be dropped after."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = [""] * len(calls)

    def run(n: int) -> None:
        try:
            barrier.wait()
            calls[n]()
            outcomes[n] = "ok"
        except FlowError as exc:
            outcomes[n] = exc.message
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
