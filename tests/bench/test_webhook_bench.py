"""Benchmark: one event fanned out to 400 apps, 10% of their endpoints slow or failing.

Run with `make bench` (pytest -s tests/bench) or alone:
    .venv/bin/pytest -s tests/bench/test_webhook_bench.py
Figures are printed, never asserted. Sizes: WEBHOOK_BENCH_APPS (400), WEBHOOK_BENCH_SLOW (20: answer
after sleeping past the timeout), WEBHOOK_BENCH_FAILING (20: HTTP 500); the timeout and pool are the
settings' defaults (WEBHOOK_TIMEOUT_SECONDS 5, WEBHOOK_CONCURRENCY 16) unless the environment sets them.

Everything is real on 127.0.0.1: the local receiver (tests/integration/receiver.py, a threading
http.server), the "webhooks" outbox consumer recording the deliveries, and the dispatcher's feed loop
(the same `tick()` the worker's feeder thread runs) sending them. Measured from the start of sending:
when every healthy endpoint has its delivery recorded as succeeded, when every failing one has its
first failed attempt recorded, and when the slow ones' first attempts were cut off.
"""

from __future__ import annotations

import os
import random
import time
from typing import Any

from django.conf import settings

from tests.integration.receiver import Receiver

APPS = int(os.environ.get("WEBHOOK_BENCH_APPS", "400"))
SLOW = int(os.environ.get("WEBHOOK_BENCH_SLOW", "20"))
FAILING = int(os.environ.get("WEBHOOK_BENCH_FAILING", "20"))


def test_fan_out_of_one_event_to_400_apps_with_10_percent_slow_or_failing(db: Any) -> None:
    from officeapp.integration import webhooks
    from officeapp.integration.models import App, DeliveryStatus, WebhookDelivery, WebhookSubscription
    from officeapp.org import services as org
    from officeapp.org.models import AgencyLevel
    from officeapp.outbox.drain import drain

    receiver = Receiver().start()
    try:
        agency = org.create_agency(actor=None, name="广东省测试厅", level=AgencyLevel.PROVINCE, code="BENCH")
        drain(webhooks.CONSUMER)  # the cursor starts past the set-up's own rows
        kinds = ["slow"] * SLOW + ["fail"] * FAILING + ["ok"] * (APPS - SLOW - FAILING)
        random.Random(10).shuffle(kinds)
        sleep = float(settings.WEBHOOK_TIMEOUT_SECONDS) + 2
        apps = App.objects.bulk_create(
            [App(name=f"系统{i}", url="https://app.example.test/", owner_agency=agency) for i in range(APPS)]
        )
        paths = {
            "ok": "/ok/{i}",
            "fail": "/fail/{i}",
            "slow": f"/slow/{sleep:g}/{{i}}",
        }
        subs = WebhookSubscription.objects.bulk_create(
            [
                WebhookSubscription(
                    app=app,
                    url=receiver.url(paths[kind].format(i=i)),
                    secret=f"whsec_{i}",
                    events=["department.changed"],
                )
                for i, (app, kind) in enumerate(zip(apps, kinds, strict=True))
            ]
        )
        kind_of = {s.pk: kind for s, kind in zip(subs, kinds, strict=True)}

        # the event: a new department (org.department.changed)
        org.create_department(actor=None, agency=agency, name="基准测试处", code="BENCH-1")
        t0 = time.monotonic()
        drain(webhooks.CONSUMER)
        recorded = time.monotonic() - t0
        assert WebhookDelivery.objects.count() == APPS

        dispatcher = webhooks.Dispatcher()
        healthy = {pk for pk, kind in kind_of.items() if kind == "ok"}
        failing = {pk for pk, kind in kind_of.items() if kind == "fail"}
        slow = {pk for pk, kind in kind_of.items() if kind == "slow"}
        marks: dict[str, float] = {}
        start = time.monotonic()
        ticks = 0
        while time.monotonic() - start < sleep * 4:
            dispatcher.tick()
            ticks += 1
            now = time.monotonic() - start
            rows = list(WebhookDelivery.objects.values_list("subscription_id", "status", "attempts"))
            if "healthy" not in marks and all(
                st == DeliveryStatus.SUCCEEDED for sid, st, _ in rows if sid in healthy
            ):
                marks["healthy"] = now
            if "failing" not in marks and all(n >= 1 for sid, _, n in rows if sid in failing):
                marks["failing"] = now
            if "slow" not in marks and all(n >= 1 for sid, _, n in rows if sid in slow):
                marks["slow"] = now
            if len(marks) == 3:
                break
            time.sleep(webhooks.FEED_POLL_SECONDS)
        dispatcher.wait(max_seconds=sleep * 2)
        dispatcher.shutdown()

        print()
        print(
            f"webhook fan-out: {APPS} apps ({APPS - SLOW - FAILING} healthy, {SLOW} slow > timeout, "
            f"{FAILING} HTTP 500), timeout {settings.WEBHOOK_TIMEOUT_SECONDS:g} s, "
            f"pool {dispatcher.concurrency} (+ slow lane to {dispatcher.max_threads}), "
            f"database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}"
        )
        print(f"  deliveries recorded by the outbox consumer   {recorded * 1000:8.0f} ms")
        for key, label in [
            ("healthy", "all healthy endpoints delivered"),
            ("failing", "all failing endpoints' 1st attempt recorded"),
            ("slow", "all slow endpoints' 1st attempt cut off"),
        ]:
            value = f"{marks[key] * 1000:8.0f} ms" if key in marks else "   not reached"
            print(f"  {label:<44} {value}")
        arrivals = sorted(r.at - start for r in receiver.received if r.path.startswith("/ok/"))
        if arrivals:
            half, p95 = arrivals[len(arrivals) // 2], arrivals[int(len(arrivals) * 0.95) - 1]
            print(f"  healthy arrivals at the receiver: median {half * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")
        print(f"  feed-loop ticks                              {ticks:8d}")
    finally:
        receiver.stop()
