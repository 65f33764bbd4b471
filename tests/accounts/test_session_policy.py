"""Session policy: idle and absolute timeouts, sign out everywhere, forced password change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from django.test import Client
from django.urls import reverse

from officeapp.audit.models import AuditEvent
from officeapp.org.models import User
from tests.accounts.support import SIGN_IN_URL

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
TIMEOUT_NOTICE = "会话已超时，请重新登录"


def _page(client: Client) -> str:
    """A signed-in page of this app; any page would do."""
    return client.get(reverse("accounts:two_factor"))


def test_session_survives_activity_within_thirty_minutes(client, cast, post_sign_in, cast_password):
    with time_machine.travel(T0, tick=False) as clock:
        post_sign_in("drafter", cast_password)
        for _ in range(5):
            clock.shift(timedelta(minutes=25))
            assert _page(client).status_code == 200


def test_idle_session_ends_after_thirty_minutes_with_a_notice(client, cast, post_sign_in, cast_password):
    with time_machine.travel(T0, tick=False) as clock:
        post_sign_in("drafter", cast_password)
        assert _page(client).status_code == 200
        clock.shift(timedelta(minutes=31))
        response = _page(client)
        assert response.status_code == 302 and response["Location"].startswith(SIGN_IN_URL)
        notice = client.get(response["Location"]).content.decode()
    assert TIMEOUT_NOTICE in notice
    assert "_auth_user_id" not in client.session


def test_absolute_timeout_applies_even_to_a_busy_session(client, cast, post_sign_in, cast_password):
    with time_machine.travel(T0, tick=False) as clock:
        post_sign_in("drafter", cast_password)
        elapsed = timedelta()
        while elapsed < timedelta(hours=12):
            clock.shift(timedelta(minutes=10))
            elapsed += timedelta(minutes=10)
            if elapsed < timedelta(hours=12):
                assert _page(client).status_code == 200
        clock.shift(timedelta(seconds=1))
        response = _page(client)
        assert response.status_code == 302
        assert TIMEOUT_NOTICE in client.get(response["Location"]).content.decode()


def test_sign_out_everywhere_ends_the_other_sessions_too(cast, cast_password):
    laptop, phone = Client(), Client()
    for device in (laptop, phone):
        device.post(SIGN_IN_URL, {"username": "drafter", "password": cast_password})
        assert _page(device).status_code == 200
    response = laptop.post(reverse("accounts:sign_out_everywhere"), follow=True)
    assert "您已在所有设备上退出登录" in response.content.decode()
    ended = _page(phone)
    assert ended.status_code == 302
    assert "您已在所有设备上退出登录" in phone.get(ended["Location"]).content.decode()
    assert User.objects.get(pk=cast.drafter.pk).session_epoch == 1
    assert AuditEvent.objects.filter(action="accounts.sign_out_everywhere", actor=cast.drafter).exists()
    # Signing in again works and holds.
    phone.post(SIGN_IN_URL, {"username": "drafter", "password": cast_password})
    assert _page(phone).status_code == 200


def test_sign_out_everywhere_needs_post_and_a_session(client, cast):
    assert client.post(reverse("accounts:sign_out_everywhere"))["Location"].startswith(SIGN_IN_URL)
    client.force_login(cast.drafter, backend="officeapp.accounts.backends.LockoutAwareBackend")
    assert client.get(reverse("accounts:sign_out_everywhere")).status_code == 405


# --- forced password change -----------------------------------------------------------------

NEW_PASSWORD = "Fresh-Start-2027!"


def _must_change(user: User) -> None:
    User.objects.filter(pk=user.pk).update(must_change_password=True)


def test_first_sign_in_sends_every_page_to_the_password_page(client, cast, post_sign_in, cast_password):
    _must_change(cast.drafter)
    post_sign_in("drafter", cast_password)
    for url in [reverse("accounts:two_factor"), reverse("workbench:home"), reverse("accounts:security")]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:change_password"))
    page = client.get(reverse("accounts:change_password")).content.decode()
    assert "首次登录或密码已被重置" in page


def test_changing_the_password_lifts_the_requirement(client, cast, post_sign_in, cast_password):
    _must_change(cast.drafter)
    post_sign_in("drafter", cast_password)
    response = client.post(
        reverse("accounts:change_password"),
        {"old_password": cast_password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert _page(client).status_code == 200  # this session stays signed in
    user = User.objects.get(pk=cast.drafter.pk)
    assert user.check_password(NEW_PASSWORD) and not user.must_change_password
    assert AuditEvent.objects.filter(action="accounts.password.change", actor=cast.drafter).exists()
    client.post(reverse("accounts:sign_out"))
    assert client.post(SIGN_IN_URL, {"username": "drafter", "password": NEW_PASSWORD}).status_code == 302


def test_password_change_ends_the_users_other_sessions(cast, cast_password):
    here, elsewhere = Client(), Client()
    for device in (here, elsewhere):
        device.post(SIGN_IN_URL, {"username": "drafter", "password": cast_password})
    here.post(
        reverse("accounts:change_password"),
        {"old_password": cast_password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert _page(here).status_code == 200
    assert _page(elsewhere).status_code == 302


def _change(client: Client, old: str, new1: str, new2: str | None = None) -> str:
    response = client.post(
        reverse("accounts:change_password"),
        {"old_password": old, "new_password1": new1, "new_password2": new2 or new1},
    )
    assert response.status_code == 200
    return response.content.decode()


def test_password_policy_refuses_weak_passwords_in_chinese(client, cast, post_sign_in, cast_password):
    _must_change(cast.drafter)
    post_sign_in("drafter", cast_password)
    assert "密码太短" in _change(client, cast_password, "Ab1!short")
    assert "至少包含小写字母、大写字母、数字、符号中的 3 类" in _change(
        client, cast_password, "onlylowercaseletters"
    )
    assert "相似" in _change(client, cast_password, "Drafter-2026")
    assert "不一致" in _change(client, cast_password, NEW_PASSWORD, NEW_PASSWORD + "x")
    assert "旧密码不正确" in _change(client, "Not-The-0ld-one", NEW_PASSWORD)
    assert "不能与当前密码相同" in _change(client, cast_password, cast_password)
    assert User.objects.get(pk=cast.drafter.pk).must_change_password


def test_password_similar_to_the_real_name_is_refused(client, cast, sign_in, cast_password):
    User.objects.filter(pk=cast.outsider.pk).update(real_name="Zhao Wenjing")
    sign_in(User.objects.get(pk=cast.outsider.pk))
    assert "相似" in _change(client, cast_password, "ZhaoWenjing1")


def test_password_page_needs_a_session(client, db):
    response = client.get(reverse("accounts:change_password"))
    assert response.status_code == 302 and response["Location"].startswith(SIGN_IN_URL)
