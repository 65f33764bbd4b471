"""Sign-in: one message for every wrong credential, account and address lockout, proxy headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from django.test import Client
from django.urls import reverse

from officeapp.accounts.models import SignInThrottle, ThrottleKind
from officeapp.audit.models import AuditEvent, Outcome
from officeapp.org.models import User
from tests.accounts.support import SIGN_IN_URL

GENERIC = "用户名或密码错误"
T0 = datetime(2026, 11, 23, 2, 0, 30, tzinfo=UTC)  # 10:00:30 in Shanghai


def test_sign_in_page_renders_for_a_phone_without_the_shell(client, db):
    response = client.get(SIGN_IN_URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="viewport" content="width=device-width' in html
    assert "shell-header" not in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_drafter_signs_in_and_lands_on_the_workbench(client, cast, post_sign_in, cast_password):
    response = post_sign_in("drafter", cast_password)
    assert response.status_code == 302
    assert response["Location"] == reverse("workbench:home")
    assert client.session["_auth_user_id"] == str(cast.drafter.pk)
    event = AuditEvent.objects.filter(action="accounts.sign_in", actor=cast.drafter).get()
    assert event.outcome == Outcome.SUCCESS
    assert event.client_address == "127.0.0.1"


def test_sign_in_goes_to_a_local_next_but_never_to_another_site(client, cast, cast_password):
    ok = client.post(
        SIGN_IN_URL + "?next=/org/", {"username": "drafter", "password": cast_password, "next": "/org/"}
    )
    assert ok["Location"] == "/org/"
    client.logout()
    evil = client.post(
        SIGN_IN_URL, {"username": "drafter", "password": cast_password, "next": "https://evil.example/"}
    )
    assert evil["Location"] == reverse("workbench:home")


def test_unknown_user_and_wrong_password_get_the_same_message(cast, post_sign_in, cast_password):
    unknown = post_sign_in("nobody-here", cast_password)
    wrong = post_sign_in("drafter", "Wrong-Passw0rd")
    for response in (unknown, wrong):
        assert response.status_code == 200
        assert GENERIC in response.content.decode()
    # What was typed comes back, the password never does.
    assert 'value="drafter"' in wrong.content.decode()
    assert "Wrong-Passw0rd" not in wrong.content.decode()


def test_disabled_user_cannot_sign_in_and_sees_the_generic_message(client, cast, post_sign_in, cast_password):
    User.objects.filter(pk=cast.drafter.pk).update(is_active=False)
    response = post_sign_in("drafter", cast_password)
    assert GENERIC in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_empty_form_is_refused_in_chinese(post_sign_in, db):
    response = post_sign_in("", "")
    html = response.content.decode()
    assert "请输入用户名" in html and "请输入密码" in html


def test_failed_sign_in_is_audited_without_the_password(cast, post_sign_in):
    post_sign_in("drafter", "Secret-Guess-123")
    event = AuditEvent.objects.get(action="accounts.sign_in", outcome=Outcome.FAILED)
    assert event.details["username"] == "drafter"
    assert "Secret-Guess-123" not in str(event.details)
    assert event.actor is None


def test_five_failures_lock_the_account_for_fifteen_minutes(client, cast, post_sign_in, cast_password):
    with time_machine.travel(T0, tick=False) as clock:
        for _ in range(4):
            assert GENERIC in post_sign_in("drafter", "Wrong-Passw0rd").content.decode()
        fifth = post_sign_in("drafter", "Wrong-Passw0rd").content.decode()
        # Locked at 10:00:30 Shanghai time: until 10:15:30, shown rounded up to the minute.
        assert "账号已锁定" in fifth and "2026-11-23 10:16" in fifth
        assert AuditEvent.objects.filter(action="accounts.lockout", details__scope="account").count() == 1

        clock.shift(timedelta(minutes=14))
        still_locked = post_sign_in("drafter", cast_password)
        assert "账号已锁定" in still_locked.content.decode()
        assert "_auth_user_id" not in client.session

        clock.shift(timedelta(minutes=1, seconds=1))
        assert post_sign_in("drafter", cast_password).status_code == 302
    assert SignInThrottle.objects.get(kind=ThrottleKind.ACCOUNT, key="drafter").failures == 0


def test_unknown_user_name_locks_exactly_like_a_real_one(cast, post_sign_in):
    with time_machine.travel(T0, tick=False):
        for _ in range(5):
            response = post_sign_in("no-such-user", "Wrong-Passw0rd")
    assert "账号已锁定" in response.content.decode()


def test_lock_is_per_account_name_whatever_its_case(cast, post_sign_in):
    with time_machine.travel(T0, tick=False):
        for name in ["drafter", "Drafter", "DRAFTER", "drafter ", "dRafter"]:
            response = post_sign_in(name, "Wrong-Passw0rd")
    assert "账号已锁定" in response.content.decode()


def test_failures_older_than_the_window_are_forgotten(cast, post_sign_in, cast_password):
    with time_machine.travel(T0, tick=False) as clock:
        for _ in range(4):
            post_sign_in("drafter", "Wrong-Passw0rd")
        clock.shift(timedelta(minutes=16))
        response = post_sign_in("drafter", "Wrong-Passw0rd")
    assert GENERIC in response.content.decode() and "账号已锁定" not in response.content.decode()


def test_locked_account_is_refused_by_the_backend_too(cast, post_sign_in, cast_password):
    from django.contrib.auth import authenticate

    with time_machine.travel(T0, tick=False):
        for _ in range(5):
            post_sign_in("drafter", "Wrong-Passw0rd")
        assert authenticate(None, username="drafter", password=cast_password) is None


def test_account_locked_under_another_casing_is_refused_by_the_backend(cast, post_sign_in, cast_password):
    from django.contrib.auth import authenticate

    with time_machine.travel(T0, tick=False):
        for _ in range(5):
            post_sign_in(" DRAFTER", "Wrong-Passw0rd")
        assert authenticate(None, username="drafter", password=cast_password) is None


def test_client_address_is_limited_across_accounts(settings, cast, post_sign_in, cast_password):
    settings.SIGN_IN_MAX_FAILURES_PER_ADDRESS = 3
    with time_machine.travel(T0, tick=False):
        post_sign_in("drafter", "Wrong-1-Passw0rd", REMOTE_ADDR="203.0.113.7")
        post_sign_in("leader", "Wrong-2-Passw0rd", REMOTE_ADDR="203.0.113.7")
        third = post_sign_in("clerk", "Wrong-3-Passw0rd", REMOTE_ADDR="203.0.113.7")
        assert "网络地址" in third.content.decode()
        # Even the right password of a fourth account waits out the address lock ...
        blocked = post_sign_in("outsider", cast_password, REMOTE_ADDR="203.0.113.7")
        assert "网络地址" in blocked.content.decode()
        # ... while another address is untouched.
        assert post_sign_in("outsider", cast_password, REMOTE_ADDR="198.51.100.9").status_code == 302
    assert AuditEvent.objects.filter(action="accounts.lockout", details__scope="address").count() == 1


def test_forwarded_address_is_believed_only_from_a_trusted_proxy(settings, cast, post_sign_in):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    post_sign_in("drafter", "Wrong-Passw0rd", REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="203.0.113.50")
    post_sign_in("drafter", "Wrong-Passw0rd", REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR="203.0.113.99")
    addresses = set(SignInThrottle.objects.filter(kind=ThrottleKind.ADDRESS).values_list("key", flat=True))
    # From the proxy: the client it names. From anyone else: the sender itself, header ignored.
    assert addresses == {"203.0.113.50", "198.51.100.1"}
    audited = set(
        AuditEvent.objects.filter(action="accounts.sign_in").values_list("client_address", flat=True)
    )
    assert audited == {"203.0.113.50", "198.51.100.1"}


def test_forged_forwarded_header_cannot_dodge_the_address_limit(settings, cast, post_sign_in):
    settings.SIGN_IN_MAX_FAILURES_PER_ADDRESS = 2
    settings.TRUSTED_PROXIES = []
    with time_machine.travel(T0, tick=False):
        post_sign_in("drafter", "Wrong-Passw0rd", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="1.1.1.1")
        response = post_sign_in(
            "leader", "Wrong-Passw0rd", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="2.2.2.2"
        )
    assert "网络地址" in response.content.decode()


def test_sign_in_post_without_csrf_token_is_refused(cast, cast_password):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(SIGN_IN_URL, {"username": "drafter", "password": cast_password})
    assert response.status_code == 403


def test_sign_out_needs_post_and_ends_the_session(client, cast, post_sign_in, cast_password):
    post_sign_in("drafter", cast_password)
    assert client.get(reverse("accounts:sign_out")).status_code == 405
    response = client.post(reverse("accounts:sign_out"), follow=True)
    assert "您已退出登录" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="accounts.sign_out", actor=cast.drafter).exists()


def test_signed_in_user_opening_sign_in_goes_to_the_workbench(client, cast, sign_in):
    sign_in(cast.drafter)
    assert client.get(SIGN_IN_URL)["Location"] == reverse("workbench:home")


def test_stale_failure_counters_are_forgotten_but_live_locks_are_kept(cast, post_sign_in):
    from officeapp.accounts.tasks import forget_stale_failures
    from officeapp.registries import worker_schedules

    with time_machine.travel(T0, tick=False) as clock:
        post_sign_in("random-name-1", "Wrong-Passw0rd")
        for _ in range(5):
            post_sign_in("drafter", "Wrong-Passw0rd")
        clock.shift(timedelta(minutes=14))
        assert forget_stale_failures() == 0
        clock.shift(timedelta(minutes=2))
        assert forget_stale_failures() >= 2
    assert not SignInThrottle.objects.filter(kind=ThrottleKind.ACCOUNT).exists()
    assert "accounts.forget_stale_failures" in worker_schedules
