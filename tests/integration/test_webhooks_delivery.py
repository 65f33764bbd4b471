"""Webhook delivery against a local receiver: signature, retries with backoff, timeouts, failure and
replay, a dead endpoint beside a healthy one, exactly-once recording, suspended apps, crash recovery."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from officeapp.integration import webhooks
from officeapp.integration.models import (
    AppStatus,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from officeapp.integration.webhook_services import Acting, replay, set_subscription_active, subscribe
from officeapp.integration.webhooks import BACKOFF_SECONDS, MAX_ATTEMPTS, Dispatcher, consume
from officeapp.org import services as org
from officeapp.outbox.drain import drain
from officeapp.outbox.models import OutboxCursor, OutboxEvent
from tests.integration.receiver import Receiver, refused_url

TIMEOUT = 0.5


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def caught_up(cast: Any) -> Any:
    """The cast's own outbox rows are behind the "webhooks" cursor before any test subscribes."""
    drain(webhooks.CONSUMER)
    return cast


@pytest.fixture
def dispatcher(settings: Any) -> Iterator[Dispatcher]:
    settings.WEBHOOK_TIMEOUT_SECONDS = TIMEOUT
    d = Dispatcher(concurrency=8, timeout=TIMEOUT)
    yield d
    d.wait(max_seconds=5)
    d.shutdown()


def _subscribe(app: Any, url: str, events: list[str] | None = None) -> tuple[WebhookSubscription, str]:
    return subscribe(app, acting=Acting(user=None, app=app), url=url, events=events or ["user.created"])


def _new_user(cast: Any, username: str = "newcomer") -> Any:
    return org.create_user(
        actor=None, username=username, real_name="新同事", department=cast.general_dept, mobile="13512345678"
    )


def _settle(d: Dispatcher) -> None:
    """One tick, then wait for the started requests and write their results."""
    d.tick()
    d.wait()


def test_delivery_arrives_signed_with_the_subscriptions_secret(caught_up, make_app, receiver, dispatcher):
    app = make_app(caught_up.gov_office)
    sub, secret = _subscribe(app, receiver.url("/ok/a"))
    receiver.expect_secret("/ok/a", secret)
    user = _new_user(caught_up)
    drain(webhooks.CONSUMER)

    _settle(dispatcher)

    [got] = receiver.to("/ok/a")
    assert got.signature_ok is True
    assert got.headers["X-Officeapp-Event"] == "user.created"
    assert got.headers["User-Agent"].startswith("officeapp-webhooks")
    body = json.loads(got.body)
    assert body["event"] == "user.created"
    assert body["data"]["user"]["id"] == user.pk
    assert body["data"]["user"]["name"] == "新同事"
    assert "13512345678" not in got.body.decode()  # no phone numbers leave the platform
    delivery = WebhookDelivery.objects.get(subscription=sub)
    assert got.headers["X-Officeapp-Delivery"] == str(delivery.pk)
    assert body["id"] == delivery.event_id
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 1
    assert delivery.attempt_log.get().status_code == 200


def test_a_signature_with_another_secret_or_an_old_timestamp_does_not_verify():
    body = b'{"event":"user.created"}'
    now = int(time.time())
    good = {"X-Officeapp-Timestamp": str(now), "X-Officeapp-Signature": webhooks.sign("s1", now, body)}
    assert webhooks.verify_signature("s1", good, body)
    assert not webhooks.verify_signature("s2", good, body)
    assert not webhooks.verify_signature("s1", good, body + b" ")
    old = now - 3600
    stale = {"X-Officeapp-Timestamp": str(old), "X-Officeapp-Signature": webhooks.sign("s1", old, body)}
    assert not webhooks.verify_signature("s1", stale, body)


def test_a_500_is_retried_after_the_backoff_and_then_succeeds(caught_up, make_app, receiver, dispatcher):
    app = make_app(caught_up.gov_office)
    sub, _ = _subscribe(app, receiver.url("/flaky/1/b"))
    _new_user(caught_up)
    drain(webhooks.CONSUMER)

    _settle(dispatcher)
    delivery = WebhookDelivery.objects.get(subscription=sub)
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert delivery.last_status_code == 500
    assert "HTTP 500" in delivery.last_error
    wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
    assert BACKOFF_SECONDS[0] - 2 < wait <= BACKOFF_SECONDS[0]

    _settle(dispatcher)  # not due yet: nothing is sent
    assert len(receiver.to("/flaky/1/b")) == 1

    with time_machine.travel(timezone.now() + timedelta(seconds=BACKOFF_SECONDS[0] + 1), tick=True):
        _settle(dispatcher)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 2
    assert [a.status_code for a in delivery.attempt_log.all()] == [500, 200]


def test_a_slow_receiver_is_cut_off_at_the_timeout_and_retried(caught_up, make_app, receiver, dispatcher):
    app = make_app(caught_up.gov_office)
    sub, _ = _subscribe(app, receiver.url("/slow/3/c"))
    _new_user(caught_up)
    drain(webhooks.CONSUMER)

    started = time.monotonic()
    _settle(dispatcher)
    elapsed = time.monotonic() - started

    assert elapsed < TIMEOUT + 1.0  # not the receiver's 3 s
    delivery = WebhookDelivery.objects.get(subscription=sub)
    attempt = delivery.attempt_log.get()
    assert attempt.error == "timeout" and attempt.status_code is None
    assert TIMEOUT * 1000 * 0.8 <= attempt.duration_ms < (TIMEOUT + 1.0) * 1000
    assert delivery.status == DeliveryStatus.PENDING and "超时" in delivery.last_error
    assert delivery.next_attempt_at > timezone.now()


def test_after_the_last_attempt_it_is_failed_and_a_replay_sends_it_again(
    caught_up, make_app, receiver, dispatcher
):
    app = make_app(caught_up.gov_office)
    sub, _ = _subscribe(app, refused_url())
    _new_user(caught_up)
    drain(webhooks.CONSUMER)
    delivery = WebhookDelivery.objects.get(subscription=sub)

    at = timezone.now()
    for n in range(MAX_ATTEMPTS):
        with time_machine.travel(at, tick=True):
            _settle(dispatcher)
        delivery.refresh_from_db()
        assert delivery.attempts == n + 1
        if n < len(BACKOFF_SECONDS):
            at = delivery.next_attempt_at + timedelta(seconds=1)
    assert delivery.status == DeliveryStatus.FAILED
    assert "连接失败" in delivery.last_error
    assert {a.error for a in delivery.attempt_log.all()} == {"ConnectionError"}

    # The receiver is back: the owner points the subscription at it and replays.
    WebhookSubscription.objects.filter(pk=sub.pk).update(url=receiver.url("/ok/d"))
    replay(delivery, acting=Acting(user=caught_up.system_admin))
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 0
    with time_machine.travel(at + timedelta(seconds=1), tick=True):
        _settle(dispatcher)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert len(receiver.to("/ok/d")) == 1
    last = delivery.attempt_log.last()
    assert last.replayed_by == caught_up.system_admin and last.status_code == 200
    assert delivery.attempt_log.count() == MAX_ATTEMPTS + 1


def test_a_dead_endpoint_with_100_deliveries_does_not_delay_a_healthy_one(
    caught_up, make_app, receiver, dispatcher
):
    dead_app = make_app(caught_up.gov_office, name="慢系统")
    dead, _ = _subscribe(dead_app, receiver.url("/slow/3/dead"))
    for i in range(99):
        _new_user(caught_up, f"bulk{i}")
    drain(webhooks.CONSUMER)
    healthy_app = make_app(caught_up.finance, name="财务系统")
    healthy, _ = _subscribe(healthy_app, receiver.url("/ok/healthy"))
    _new_user(caught_up, "last")  # the 100th for the dead endpoint, the healthy one's only delivery
    drain(webhooks.CONSUMER)
    assert WebhookDelivery.objects.filter(subscription=dead).count() == 100

    started = time.monotonic()
    dispatcher.tick()  # the first tick
    [got] = receiver.wait_for("/ok/healthy", timeout=TIMEOUT)
    assert got.at - started < TIMEOUT  # before even the first dead request timed out
    assert sum(1 for r, _ in dispatcher.in_flight.values() if r.subscription_id == dead.pk) <= 2
    dispatcher.wait()
    assert WebhookDelivery.objects.get(subscription=healthy).status == DeliveryStatus.SUCCEEDED
    assert WebhookDelivery.objects.filter(subscription=dead, attempts=1).count() == 2


def test_deliveries_of_one_subscription_are_claimed_in_event_order(caught_up, make_app, receiver, dispatcher):
    app = make_app(caught_up.gov_office)
    sub, _ = _subscribe(app, receiver.url("/ok/order"))
    for i in range(5):
        _new_user(caught_up, f"order{i}")
    drain(webhooks.CONSUMER)

    for _ in range(3):
        _settle(dispatcher)

    ids = [json.loads(r.body)["id"] for r in receiver.to("/ok/order")]
    assert sorted(ids) == list(
        WebhookDelivery.objects.filter(subscription=sub).values_list("event_id", flat=True)
    )
    # Two at a time may arrive in either order; each tick takes the two oldest still waiting.
    assert [set(ids[:2]), set(ids[2:4]), ids[4:]] == [
        set(sorted(ids)[:2]),
        set(sorted(ids)[2:4]),
        sorted(ids)[4:],
    ]


def test_a_redelivered_outbox_batch_creates_no_duplicate_deliveries(caught_up, make_app, receiver):
    app = make_app(caught_up.gov_office)
    sub, _ = _subscribe(app, receiver.url("/ok/e"))
    _new_user(caught_up, "a1")
    _new_user(caught_up, "a2")
    rows = list(OutboxEvent.objects.filter(id__gt=OutboxCursor.objects.get(consumer="webhooks").last_id))
    drain(webhooks.CONSUMER)
    assert WebhookDelivery.objects.filter(subscription=sub).count() == 2

    consume(rows)  # as after a crash between the consumer's writes and the cursor's commit
    consume(rows)

    assert WebhookDelivery.objects.filter(subscription=sub).count() == 2


def test_a_suspended_app_gets_no_deliveries_and_a_paused_subscription_waits(
    caught_up, make_app, receiver, dispatcher
):
    suspended = make_app(caught_up.gov_office, name="已停用系统", status=AppStatus.SUSPENDED)
    _subscribe(suspended, receiver.url("/ok/suspended"))
    paused_app = make_app(caught_up.gov_office, name="暂停系统")
    paused, _ = _subscribe(paused_app, receiver.url("/ok/paused"))
    WebhookSubscription.objects.filter(pk=paused.pk).update(is_active=False)
    _new_user(caught_up)
    drain(webhooks.CONSUMER)
    _settle(dispatcher)

    assert not WebhookDelivery.objects.filter(subscription__app=suspended).exists()
    assert receiver.to("/ok/suspended") == []
    waiting = WebhookDelivery.objects.get(subscription=paused)  # paused: recorded, not sent
    assert waiting.status == DeliveryStatus.PENDING and receiver.to("/ok/paused") == []

    set_subscription_active(paused, acting=Acting(user=None, app=paused_app), active=True)
    _settle(dispatcher)
    assert len(receiver.to("/ok/paused")) == 1


def test_an_app_suspended_after_recording_is_not_sent_to(caught_up, make_app, receiver, dispatcher):
    app = make_app(caught_up.gov_office)
    sub, _ = _subscribe(app, receiver.url("/ok/later"))
    _new_user(caught_up)
    drain(webhooks.CONSUMER)
    app.status = AppStatus.SUSPENDED
    app.save(update_fields=["status"])

    _settle(dispatcher)

    assert receiver.to("/ok/later") == []
    assert WebhookDelivery.objects.get(subscription=sub).status == DeliveryStatus.PENDING


def test_a_worker_crash_between_claim_and_send_loses_nothing(caught_up, make_app, receiver, dispatcher):
    app = make_app(caught_up.gov_office)
    sub, _ = _subscribe(app, receiver.url("/ok/crash"))
    _new_user(caught_up)
    drain(webhooks.CONSUMER)

    claimed = webhooks.claim(10)  # the crashed worker's claim: leased, never sent
    assert [d.subscription_id for d in claimed] == [sub.pk]
    _settle(dispatcher)  # another worker: the lease still holds, so it is not sent twice
    assert receiver.to("/ok/crash") == []

    with time_machine.travel(timezone.now() + timedelta(seconds=webhooks.lease_seconds() + 1), tick=True):
        _settle(dispatcher)

    assert len(receiver.to("/ok/crash")) == 1
    assert WebhookDelivery.objects.get(subscription=sub).status == DeliveryStatus.SUCCEEDED
    assert WebhookAttempt.objects.filter(delivery__subscription=sub).count() == 1


def test_many_hanging_receivers_do_not_starve_a_healthy_one(caught_up, make_app, receiver, settings):
    # given: more hanging receivers than the pool has threads, each with one delivery, created first
    settings.WEBHOOK_TIMEOUT_SECONDS = 3
    for i in range(6):
        _subscribe(make_app(caught_up.gov_office, name=f"挂起{i}"), receiver.url(f"/slow/5/hang{i}"))
    _subscribe(make_app(caught_up.finance, name="财务系统"), receiver.url("/ok/after"))
    _new_user(caught_up)
    drain(webhooks.CONSUMER)
    d = Dispatcher(concurrency=4, timeout=3)
    try:
        # when: the feed loop runs
        started = time.monotonic()
        while not receiver.to("/ok/after") and time.monotonic() - started < 3:
            d.tick()
            time.sleep(0.02)
        # then: the healthy one went out once the first hanging requests moved to the slow lane,
        # long before any of them timed out
        [got] = receiver.to("/ok/after")
        assert got.at - started < webhooks.STUCK_AFTER_SECONDS + 1.0
        assert len(d.in_flight) <= d.max_threads
    finally:
        d.wait(max_seconds=10)
        d.shutdown()


@pytest.mark.django_db(transaction=True)
def test_the_tickers_job_starts_a_feeder_that_delivers_on_its_own(cast, make_app, receiver, settings):
    from officeapp.integration import tasks

    settings.WEBHOOK_TIMEOUT_SECONDS = TIMEOUT
    drain(webhooks.CONSUMER)
    sub, _ = _subscribe(make_app(cast.gov_office), receiver.url("/ok/feeder"))
    _new_user(cast)
    drain(webhooks.CONSUMER)
    webhooks._dispatcher = None
    try:
        tasks.deliver_webhooks()
        tasks.deliver_webhooks()  # idempotent: one feeder thread per process
        assert len(receiver.wait_for("/ok/feeder", timeout=5)) == 1
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if WebhookDelivery.objects.get(subscription=sub).status == DeliveryStatus.SUCCEEDED:
                break
            time.sleep(0.05)
        assert WebhookDelivery.objects.get(subscription=sub).status == DeliveryStatus.SUCCEEDED
    finally:
        webhooks.dispatcher().shutdown()
        webhooks._dispatcher = None
