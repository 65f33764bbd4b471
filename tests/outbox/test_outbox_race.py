"""Two workers draining the same consumer at once deliver every event exactly once (row lock with
SKIP LOCKED on the cursor). Needs real concurrent transactions: PostgreSQL (CI's DATABASE_URL)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from officeapp.outbox.drain import drain
from officeapp.outbox.models import OutboxEvent
from officeapp.outbox.services import emit
from officeapp.registries import outbox_consumers

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions need PostgreSQL"),
]


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_drains_deliver_each_event_once() -> None:
    delivered: list[int] = []
    guard = threading.Lock()

    def slow_consumer(events: list[OutboxEvent]) -> None:
        time.sleep(0.1)  # hold the cursor lock long enough for the other drain to collide
        with guard:
            delivered.extend(e.id for e in events)

    outbox_consumers.register("test.race", slow_consumer)
    try:
        made = [emit("test.changed", object_type="test.thing", object_id=str(i)).id for i in range(30)]
        start = threading.Barrier(2)

        def worker() -> None:
            try:
                start.wait()
                for _ in range(10):
                    drain("test.race", batch_size=5)
            finally:
                connection.close()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        outbox_consumers.unregister("test.race")

    assert sorted(delivered) == made
    assert len(delivered) == len(set(delivered))
