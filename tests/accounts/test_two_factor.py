"""TOTP: required for the three administrators, optional for everyone else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from officeapp.accounts.middleware import SESSION_OTP_REQUIRED
from officeapp.accounts.totp import secret_text
from officeapp.accounts.views import PENDING_TOTP_KEY
from officeapp.audit.models import AuditEvent, Outcome
from tests.accounts.support import SIGN_IN_URL, code_for_key

T0 = datetime(2026, 11, 23, 3, 0, 5, tzinfo=UTC)
VERIFY = "/accounts/two-factor/verify/"


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def _sign_in(client: Client, username: str, password: str) -> None:
    assert client.post(SIGN_IN_URL, {"username": username, "password": password}).status_code == 302


@pytest.mark.parametrize("admin", ["system_admin", "security_admin", "audit_admin"])
def test_administrator_without_totp_must_enrol_before_any_page(client, cast, cast_password, clock, admin):
    _sign_in(client, admin, cast_password)
    response = client.get(reverse("accounts:security"))
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    page = client.get(response["Location"]).content.decode()
    assert "须启用动态验证码" in page and "<svg" in page
    key = client.session[PENDING_TOTP_KEY]
    # The secret is shown for typing by hand; the QR code is drawn on the server, no image is fetched.
    assert secret_text(key) in page and "<img" not in page
    done = client.post(VERIFY, {"token": code_for_key(key), "next": "/accounts/two-factor/"})
    assert done.status_code == 302 and done["Location"] == "/accounts/two-factor/"
    assert client.get(reverse("accounts:two_factor")).status_code == 200
    assert TOTPDevice.objects.filter(user__username=admin, confirmed=True).count() == 1
    assert AuditEvent.objects.filter(
        action="accounts.totp.enrol", actor__username=admin, outcome=Outcome.SUCCESS
    ).exists()


def test_administrator_enrolment_with_a_wrong_code_is_refused(client, cast, cast_password, clock):
    _sign_in(client, "audit_admin", cast_password)
    client.get(VERIFY)
    response = client.post(VERIFY, {"token": "000000"})
    assert "验证码不正确" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=cast.audit_admin).exists()
    assert AuditEvent.objects.filter(action="accounts.totp.enrol", outcome=Outcome.FAILED).exists()
    assert client.get(reverse("accounts:two_factor")).status_code == 302


def _enrolled(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="身份验证器", confirmed=True)


def test_enrolled_administrator_verifies_a_code_after_the_password(client, cast, cast_password, clock):
    device = _enrolled(cast.security_admin)
    _sign_in(client, "security_admin", cast_password)
    assert client.get(reverse("accounts:security")).status_code == 302
    wrong = client.post(VERIFY, {"token": "123456"})
    assert "验证码不正确" in wrong.content.decode()
    assert AuditEvent.objects.filter(action="accounts.totp.verify", outcome=Outcome.FAILED).exists()
    clock.shift(timedelta(seconds=2))  # django-otp slows repeated guesses down
    ok = client.post(VERIFY, {"token": code_for_key(device.key), "next": reverse("accounts:security")})
    assert ok["Location"] == reverse("accounts:security")
    assert client.get(reverse("accounts:security")).status_code == 200


def test_a_used_code_cannot_be_replayed(cast, cast_password, clock):
    device = _enrolled(cast.system_admin)
    first, second = Client(), Client()
    code = code_for_key(device.key)
    for c in (first, second):
        _sign_in(c, "system_admin", cast_password)
    assert first.post(VERIFY, {"token": code}).status_code == 302
    assert "验证码不正确" in second.post(VERIFY, {"token": code}).content.decode()


def test_repeated_wrong_codes_are_throttled(client, cast, cast_password, clock):
    device = _enrolled(cast.system_admin)
    _sign_in(client, "system_admin", cast_password)
    for _ in range(3):
        client.post(VERIFY, {"token": "111111"})
    response = client.post(VERIFY, {"token": code_for_key(device.key)})
    assert "错误次数过多" in response.content.decode()


def test_code_must_be_digits(client, cast, cast_password, clock):
    _enrolled(cast.system_admin)
    _sign_in(client, "system_admin", cast_password)
    assert "只能是数字" in client.post(VERIFY, {"token": "abcdef"}).content.decode()
    assert "6 位数字" in client.post(VERIFY, {"token": "12"}).content.decode()
    assert "请输入动态验证码" in client.post(VERIFY, {"token": ""}).content.decode()


def test_unverified_administrator_may_still_sign_out(client, cast, cast_password, clock):
    _sign_in(client, "system_admin", cast_password)
    response = client.post(reverse("accounts:sign_out"))
    assert response["Location"] == reverse("accounts:sign_in")
    assert "_auth_user_id" not in client.session


def test_an_administrator_by_force_login_is_still_sent_to_verification(client, cast, sign_in, clock):
    sign_in(cast.audit_admin)
    assert client.get(reverse("accounts:two_factor"))["Location"].startswith(VERIFY)


def test_role_granted_mid_session_requires_totp_on_the_next_request(client, cast, cast_password, clock):
    from officeapp.org.models import Role, RoleGrant

    _sign_in(client, "outsider", cast_password)
    assert client.get(reverse("accounts:two_factor")).status_code == 200
    RoleGrant.objects.create(user=cast.outsider, role=Role.AUDIT_ADMIN)
    assert client.get(reverse("accounts:two_factor"))["Location"].startswith(VERIFY)


# --- optional for everyone else ---------------------------------------------------------------


def test_ordinary_user_is_not_asked_for_totp(client, cast, cast_password, clock):
    _sign_in(client, "drafter", cast_password)
    page = client.get(reverse("accounts:two_factor"))
    assert page.status_code == 200 and "未启用" in page.content.decode()


def test_ordinary_user_enrols_and_is_then_asked_at_every_sign_in(client, cast, cast_password, clock):
    _sign_in(client, "drafter", cast_password)
    client.get(reverse("accounts:two_factor"))
    key = client.session[PENDING_TOTP_KEY]
    bad = client.post(reverse("accounts:two_factor"), {"token": "999999"})
    assert "验证码不正确" in bad.content.decode()
    response = client.post(reverse("accounts:two_factor"), {"token": code_for_key(key)}, follow=True)
    assert "动态验证码已启用" in response.content.decode()
    client.post(reverse("accounts:sign_out"))

    clock.shift(timedelta(minutes=1))
    _sign_in(client, "drafter", cast_password)
    assert client.get(reverse("accounts:two_factor"))["Location"].startswith(VERIFY)
    assert client.post(VERIFY, {"token": code_for_key(key)}).status_code == 302
    assert client.get(reverse("accounts:two_factor")).status_code == 200


def test_ordinary_user_disables_totp_with_a_current_code(client, cast, cast_password, clock):
    device = _enrolled(cast.drafter)
    _sign_in(client, "drafter", cast_password)
    client.post(VERIFY, {"token": code_for_key(device.key)})
    clock.shift(timedelta(seconds=30))
    wrong = client.post(reverse("accounts:two_factor_disable"), {"token": "000000"}, follow=True)
    assert "验证码不正确" in wrong.content.decode()
    clock.shift(timedelta(seconds=30))
    done = client.post(
        reverse("accounts:two_factor_disable"), {"token": code_for_key(device.key)}, follow=True
    )
    assert "动态验证码已停用" in done.content.decode()
    assert not TOTPDevice.objects.filter(user=cast.drafter).exists()
    assert AuditEvent.objects.filter(action="accounts.totp.disable", actor=cast.drafter).exists()


def test_after_turning_totp_off_every_session_of_the_user_goes_on_without_a_code(
    client, cast, cast_password, clock
):
    device = _enrolled(cast.drafter)
    other_tab = Client()
    for session in (client, other_tab):
        _sign_in(session, "drafter", cast_password)
        clock.shift(timedelta(seconds=30))
        session.post(VERIFY, {"token": code_for_key(device.key)})
    clock.shift(timedelta(seconds=30))
    done = client.post(reverse("accounts:two_factor_disable"), {"token": code_for_key(device.key)})
    assert done["Location"] == reverse("accounts:two_factor")
    for session in (client, other_tab):
        page = session.get(reverse("accounts:two_factor"))
        assert page.status_code == 200
        assert "未启用" in page.content.decode()
        assert session.session[SESSION_OTP_REQUIRED] is False  # looked up once, not on every page


def test_administrator_cannot_disable_totp(client, cast, cast_password, clock):
    device = _enrolled(cast.system_admin)
    _sign_in(client, "system_admin", cast_password)
    client.post(VERIFY, {"token": code_for_key(device.key)})
    clock.shift(timedelta(seconds=30))
    page = client.get(reverse("accounts:two_factor")).content.decode()
    assert "不能停用" in page
    response = client.post(
        reverse("accounts:two_factor_disable"), {"token": code_for_key(device.key)}, follow=True
    )
    assert "不能停用" in response.content.decode()
    assert TOTPDevice.objects.filter(user=cast.system_admin).exists()


def test_two_factor_page_needs_a_session(client, db):
    assert client.get(reverse("accounts:two_factor"))["Location"].startswith(SIGN_IN_URL)


def test_new_administrator_verifies_totp_then_changes_password(client, cast, cast_password, clock):
    from officeapp.org.models import User

    User.objects.filter(pk=cast.system_admin.pk).update(must_change_password=True)
    device = _enrolled(cast.system_admin)
    _sign_in(client, "system_admin", cast_password)
    assert client.get(reverse("accounts:change_password"))["Location"].startswith(VERIFY)
    client.post(VERIFY, {"token": code_for_key(device.key)})
    assert client.get(reverse("accounts:two_factor"))["Location"].startswith(
        reverse("accounts:change_password")
    )
    assert client.get(reverse("accounts:change_password")).status_code == 200


def test_htmx_request_of_an_unverified_administrator_navigates_the_whole_page(
    client, cast, cast_password, clock
):
    _sign_in(client, "system_admin", cast_password)
    response = client.get(reverse("accounts:two_factor"), HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(VERIFY)
