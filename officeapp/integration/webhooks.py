"""Webhooks: the "webhooks" outbox consumer that records deliveries, and the engine that sends them.

Recording. `consume(events)` runs inside the outbox drain's transaction for the "webhooks" cursor: for
each outbox row that is a catalog event (officeapp.integration.events) it inserts one WebhookDelivery
per matching active subscription of an active app. The insert ignores conflicts on the unique
(subscription, event id) constraint, so a batch delivered again after a crash creates nothing twice —
and since the rows and the cursor commit together, each event is recorded exactly once.

Sending. In each worker process a feeder thread (started and kept alive by the ticker's job,
officeapp.integration.tasks.deliver_webhooks) calls `Dispatcher.tick()` in a loop; a tick never
waits for a receiver:
1. results of requests that finished since the last tick are written (attempt row, status, backoff);
2. due pending deliveries are *claimed* in a short transaction (`select_for_update(skip_locked=True)`
   on PostgreSQL, so two workers never claim the same row) that moves `next_attempt_at` ahead by
   `lease_seconds()`: if the process dies before writing the result, the lease runs out and another
   tick claims the delivery again — nothing is lost (a receiver may see a delivery twice; the
   X-Officeapp-Delivery header and the body's "id" are its idempotency keys);
3. the claimed deliveries are POSTed by a thread pool, each with settings.WEBHOOK_TIMEOUT_SECONDS.
   Pool threads do HTTP only; every database write stays on the feeder's thread.

A slow or dead endpoint cannot hold the pool: at most `PER_SUBSCRIPTION_IN_FLIGHT` requests of one
subscription are in flight, and each claim takes every subscription's oldest due delivery before
anyone's second (ordered per subscription by event id). 400 deliveries waiting for one dead receiver
use two threads; everybody else's deliveries go out in the same tick. And many hanging receivers at
once cannot starve the rest either: settings.WEBHOOK_CONCURRENCY counts only requests younger than
STUCK_AFTER_SECONDS; older ones run on in a slow lane of extra threads (see `Dispatcher`).

Signature: X-Officeapp-Signature = "v1=" + hex(HMAC-SHA256(secret, f"{timestamp}.{body}")), where
timestamp is the X-Officeapp-Timestamp header (Unix seconds) and body the exact request bytes — see
`verify_signature` for what a receiver does.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from officeapp.integration.events import app_agencies, event_for, key_for
from officeapp.integration.models import (
    AppStatus,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from officeapp.outbox.models import OutboxEvent

logger = logging.getLogger(__name__)

CONSUMER = "webhooks"
USER_AGENT = "officeapp-webhooks/1"

# Wait after the n-th failed attempt (index n-1). Short first (a receiver restarting), then longer, so a
# receiver down for most of a working day still gets everything: 10 s, 1 min, 5 min, 30 min, 2 h, 6 h —
# about 8 h 36 min in all. The attempt after the last wait is the final one: 7 attempts, then failed.
BACKOFF_SECONDS: tuple[int, ...] = (10, 60, 300, 1800, 7200, 21600)
MAX_ATTEMPTS = len(BACKOFF_SECONDS) + 1
# One subscription's share of the pool; the rest is everybody else's.
PER_SUBSCRIPTION_IN_FLIGHT = 2
# A claim's lease: longer than any request can take, so a live worker always writes its result first.
LEASE_EXTRA_SECONDS = 30
# A request running this long is a slow receiver's: it moves to the slow lane (see Dispatcher).
STUCK_AFTER_SECONDS = 0.5
SLOW_LANE_FACTOR = 4
# The feed loop's pause while requests are in flight, and when there is nothing to do.
FEED_POLL_SECONDS = 0.02
IDLE_POLL_SECONDS = 0.5
# Response bodies are not read; errors keep this much of their text.
ERROR_CHARS = 200


def lease_seconds() -> float:
    return float(settings.WEBHOOK_TIMEOUT_SECONDS) * 2 + LEASE_EXTRA_SECONDS


# --- Recording: the outbox consumer ----------------------------------------------------------------


def consume(rows: list[OutboxEvent]) -> None:
    """Outbox consumer "webhooks": one pending delivery per (matching subscription, event)."""
    wanted = [(row, key_for(row)) for row in rows]
    keys = {key for _, key in wanted if key is not None}
    if not keys:
        return
    subscriptions = [
        s
        # Paused subscriptions too: their deliveries wait, and go out when the owner resumes them.
        for s in WebhookSubscription.objects.filter(app__status=AppStatus.ACTIVE)
        .select_related("app")
        .prefetch_related("app__data_agencies")
        .order_by("id")
        if keys & set(s.events)
    ]
    if not subscriptions:
        return
    subscribed = {key for s in subscriptions for key in s.events}
    # Only rows somebody subscribed to are read further (event_for re-reads the object).
    events = [e for e in (event_for(row) for row, key in wanted if key in subscribed) if e is not None]
    agencies = {s.app_id: app_agencies(s.app) for s in subscriptions}
    now = timezone.now()
    deliveries = [
        WebhookDelivery(
            subscription=s,
            event_type=e.key,
            event_id=e.outbox_id,
            payload=e.payload_for(agencies[s.app_id]),
            next_attempt_at=now,
            created_at=now,
        )
        for e in events
        for s in subscriptions
        if e.key in s.events and e.reaches(agencies[s.app_id])
    ]
    WebhookDelivery.objects.bulk_create(deliveries, batch_size=1000, ignore_conflicts=True)


# --- Signing --------------------------------------------------------------------------------------


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify_signature(secret: str, headers: Any, body: bytes, *, tolerance_seconds: int = 300) -> bool:
    """What a receiver does (and what our tests' receiver does): recompute the HMAC over
    "<X-Officeapp-Timestamp>.<raw body>" with the subscription's secret, compare in constant time, and
    refuse old timestamps so a captured request cannot be replayed later."""
    timestamp = headers.get("X-Officeapp-Timestamp", "")
    signature = headers.get("X-Officeapp-Signature", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


# --- Sending --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    delivery_id: int
    subscription_id: int
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Outcome:
    started_at: datetime
    duration_ms: int
    status_code: int | None
    error: str  # "" on success; else "timeout", "ConnectionError" …


def request_for(delivery: WebhookDelivery, *, at: int | None = None) -> Request:
    subscription = delivery.subscription
    timestamp = int(time.time()) if at is None else at
    body = body_of(delivery)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Officeapp-Event": delivery.event_type,
        "X-Officeapp-Delivery": str(delivery.pk),
        "X-Officeapp-Timestamp": str(timestamp),
        "X-Officeapp-Signature": sign(subscription.secret, timestamp, body),
    }
    return Request(delivery.pk, subscription.pk, subscription.url, headers, body)


_session_local = threading.local()


def _session() -> requests.Session:
    session = getattr(_session_local, "session", None)
    if session is None:
        session = requests.Session()
        _session_local.session = session
    return session


def send(request: Request, timeout: float) -> Outcome:
    """POST once. Runs on a pool thread: no database here."""
    started = timezone.now()
    clock = time.monotonic()
    status_code: int | None = None
    error = ""
    try:
        # stream=True: the status line and headers are all we need; a slow body never holds a thread.
        with _session().post(
            request.url,
            data=request.body,
            headers=request.headers,
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        ) as response:
            status_code = response.status_code
    except requests.Timeout:
        error = "timeout"
    except requests.RequestException as exc:
        error = type(exc).__name__
    except Exception as exc:  # a bug must not kill the pool thread's result
        logger.exception("webhook delivery %s: unexpected error", request.delivery_id)
        error = type(exc).__name__
    duration = int((time.monotonic() - clock) * 1000)
    return Outcome(started, duration, status_code, error)


def _error_text(outcome: Outcome, timeout: float) -> str:
    if outcome.error == "timeout":
        return f"超时（{timeout:g} 秒内无响应）"
    if outcome.error:
        return f"连接失败：{outcome.error}"[:ERROR_CHARS]
    return f"接收方返回 HTTP {outcome.status_code}"


def _replayed(delivery: WebhookDelivery) -> bool:
    """A first attempt after 重新投递 (attempts reset, an earlier result still on the row)."""
    return delivery.attempts == 0 and (delivery.last_status_code is not None or bool(delivery.last_error))


def record_outcome(delivery_id: int, outcome: Outcome, *, timeout: float) -> WebhookDelivery | None:
    """Write one attempt's result: succeeded, or a retry after the backoff, or failed after the last."""
    from officeapp.integration.webhook_services import replayed_by

    ok = outcome.status_code is not None and 200 <= outcome.status_code < 300
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None:
            return None  # the subscription was deleted meanwhile
        WebhookAttempt.objects.create(
            delivery=delivery,
            started_at=outcome.started_at,
            duration_ms=outcome.duration_ms,
            status_code=outcome.status_code,
            error=outcome.error[:ERROR_CHARS],
            replayed_by=replayed_by(delivery) if _replayed(delivery) else None,
        )
        delivery.attempts += 1
        delivery.last_status_code = outcome.status_code
        now = timezone.now()
        if ok:
            delivery.status = DeliveryStatus.SUCCEEDED
            delivery.delivered_at = now
            delivery.last_error = ""
        else:
            delivery.last_error = _error_text(outcome, timeout)
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.status = DeliveryStatus.FAILED
            else:
                delivery.next_attempt_at = now + timedelta(seconds=BACKOFF_SECONDS[delivery.attempts - 1])
        delivery.save(
            update_fields=[
                "attempts",
                "last_status_code",
                "status",
                "delivered_at",
                "last_error",
                "next_attempt_at",
            ]
        )
        return delivery


def _due(now: datetime) -> Q:
    return Q(
        status=DeliveryStatus.PENDING,
        next_attempt_at__lte=now,
        subscription__is_active=True,
        subscription__app__status=AppStatus.ACTIVE,
    )


def claim(
    limit: int, *, busy: dict[int, int] | None = None, now: datetime | None = None
) -> list[WebhookDelivery]:
    """Take up to `limit` due deliveries, every subscription's oldest first and at most
    PER_SUBSCRIPTION_IN_FLIGHT of one subscription (minus `busy[subscription]` already in flight),
    and lease them (next_attempt_at moved ahead) in one short transaction."""
    if limit <= 0:
        return []
    now = now or timezone.now()
    busy = busy or {}
    full = [s for s, n in busy.items() if n >= PER_SUBSCRIPTION_IN_FLIGHT]
    ranked = (
        WebhookDelivery.objects.filter(_due(now))
        .exclude(subscription_id__in=full)
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("subscription_id")], order_by=[F("event_id"), F("id")])
        )
        .filter(rank__lte=PER_SUBSCRIPTION_IN_FLIGHT)
        .order_by("rank", "event_id", "id")
        .values_list("id", "subscription_id", "rank")
    )
    chosen: list[int] = []
    for delivery_id, subscription_id, rank in ranked[: limit + len(busy) * PER_SUBSCRIPTION_IN_FLIGHT]:
        if rank + busy.get(subscription_id, 0) <= PER_SUBSCRIPTION_IN_FLIGHT:
            chosen.append(delivery_id)
            if len(chosen) >= limit:
                break
    if not chosen:
        return []
    with transaction.atomic():
        locked = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(_due(now), pk__in=chosen)
            .select_related("subscription")
            .order_by("event_id", "id")
        )
        if locked:
            WebhookDelivery.objects.filter(pk__in=[d.pk for d in locked]).update(
                next_attempt_at=now + timedelta(seconds=lease_seconds())
            )
    return locked


class Dispatcher:
    """One per worker process: a thread pool of HTTP requests, fed and harvested by `tick()`.

    `concurrency` requests answering normally share the pool. A request still running after
    STUCK_AFTER_SECONDS (a slow or dead receiver) stops counting against it and moves to the slow
    lane — extra threads, up to SLOW_LANE_FACTOR × concurrency in all — so receivers that hang cannot
    take the threads the healthy ones need. In the worker, `start()` runs `tick()` in a loop on a
    thread of its own (the ticker only makes sure it is alive); tests and the bench call `tick()`.
    """

    def __init__(self, *, concurrency: int | None = None, timeout: float | None = None) -> None:
        self.concurrency = concurrency or int(settings.WEBHOOK_CONCURRENCY)
        self.timeout = float(timeout if timeout is not None else settings.WEBHOOK_TIMEOUT_SECONDS)
        self.max_threads = self.concurrency * SLOW_LANE_FACTOR
        self.pool = ThreadPoolExecutor(max_workers=self.max_threads, thread_name_prefix="webhook")
        self.in_flight: dict[Future[Outcome], tuple[Request, float]] = {}
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def busy(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for request, _ in self.in_flight.values():
            counts[request.subscription_id] = counts.get(request.subscription_id, 0) + 1
        return counts

    def free_slots(self) -> int:
        now = time.monotonic()
        fresh = sum(1 for _, started in self.in_flight.values() if now - started < STUCK_AFTER_SECONDS)
        return max(min(self.concurrency - fresh, self.max_threads - len(self.in_flight)), 0)

    def harvest(self) -> int:
        """Write the results of finished requests; returns how many."""
        done = [f for f in self.in_flight if f.done()]
        if not done:
            return 0
        finished = [(self.in_flight.pop(f)[0], f.result()) for f in done]
        # One transaction for the lot: one commit (one fsync on SQLite) however many finished. If it
        # fails, these deliveries come back when their leases run out.
        with transaction.atomic():
            for request, outcome in finished:
                record_outcome(request.delivery_id, outcome, timeout=self.timeout)
        return len(done)

    def tick(self) -> int:
        """Harvest, then claim and start as many as the pool has room for; returns how many started.
        Never waits for a receiver."""
        self.harvest()
        claimed = claim(self.free_slots(), busy=self.busy())
        now = time.monotonic()
        for delivery in claimed:
            request = request_for(delivery)
            self.in_flight[self.pool.submit(send, request, self.timeout)] = (request, now)
        return len(claimed)

    def run_until_idle(self, *, max_seconds: float = 60.0, poll: float = FEED_POLL_SECONDS) -> int:
        """Tick until nothing is due or in flight (tests, the bench). Returns how many started."""
        started = 0
        deadline = time.monotonic() + max_seconds
        while time.monotonic() < deadline:
            started += self.tick()
            if not self.in_flight and not WebhookDelivery.objects.filter(_due(timezone.now())).exists():
                break
            time.sleep(poll)
        return started

    def wait(self, *, max_seconds: float = 30.0) -> None:
        """Block until every started request finished, then write the results."""
        deadline = time.monotonic() + max_seconds
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.01)
            self.harvest()

    # --- the worker's loop ---------------------------------------------------------------------------

    def start(self) -> None:
        """Run the feed loop on a daemon thread (again if it died)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="webhook-feeder", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        from django.db import close_old_connections, connection

        try:
            while not self._stop.is_set():
                close_old_connections()
                try:
                    started = self.tick()
                except Exception:
                    logger.exception("webhook feeder: tick failed; retried")
                    started = 0
                # Busy: look again soon (a finished request frees a slot); idle: twice a second.
                self._stop.wait(FEED_POLL_SECONDS if (started or self.in_flight) else IDLE_POLL_SECONDS)
        finally:
            connection.close()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def shutdown(self) -> None:
        """Stop taking work. Requests still running finish; unrecorded ones come back after the lease."""
        self.stop()
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.in_flight.clear()


_dispatcher: Dispatcher | None = None
_dispatcher_lock = threading.Lock()


def dispatcher() -> Dispatcher:
    global _dispatcher
    with _dispatcher_lock:
        if _dispatcher is None:
            _dispatcher = Dispatcher()
        return _dispatcher
