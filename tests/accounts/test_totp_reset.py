"""A lost phone: the 安全管理员 resets a user's authenticator; the user's sessions end and they enrol
again at the next sign-in."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from officeapp.audit.models import AuditEvent

URL = "accounts:security_reset_totp"


def _with_device(user: Any) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="手机", confirmed=True)


def test_security_admin_resets_a_lost_authenticator_and_ends_the_users_sessions(
    cast: Any, sign_in_verified: Any
) -> None:
    # given: the system administrator is signed in with the device on the lost phone
    victim_client = sign_in_verified(cast.system_admin)
    assert victim_client.get("/org/manage/").status_code == 200
    # (a client of its own: the `client` fixture already holds the victim's session)
    security = Client()
    security.force_login(cast.security_admin, backend="officeapp.accounts.backends.LockoutAwareBackend")
    device = _with_device(cast.security_admin)
    session = security.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()

    # when
    response = security.post(reverse(URL), {"username": "system_admin"}, follow=True)

    # then
    assert "已重置" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=cast.system_admin).exists()
    assert victim_client.get("/org/manage/").status_code == 302  # the old session is over
    event = AuditEvent.objects.filter(action="accounts.totp.reset").get()
    assert event.actor == cast.security_admin and event.object_id == str(cast.system_admin.pk)


def test_nobody_resets_their_own_authenticator(cast: Any, sign_in_verified: Any) -> None:
    client = sign_in_verified(cast.security_admin)
    response = client.post(reverse(URL), {"username": "security_admin"})
    assert response.status_code == 200
    assert "不能重置自己的动态验证码" in response.content.decode()
    assert TOTPDevice.objects.filter(user=cast.security_admin).exists()


def test_unknown_user_and_user_without_device_are_told_so(cast: Any, sign_in_verified: Any) -> None:
    client = sign_in_verified(cast.security_admin)
    unknown = client.post(reverse(URL), {"username": "no.such.person"}).content.decode()
    assert "该用户不存在" in unknown and "no.such.person" in unknown
    without = client.post(reverse(URL), {"username": "drafter"}).content.decode()
    assert "尚未启用动态验证码" in without


def test_other_roles_may_not_reset(cast: Any, sign_in_verified: Any) -> None:
    _with_device(cast.drafter)
    response = sign_in_verified(cast.system_admin).post(reverse(URL), {"username": "drafter"})
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=cast.drafter).exists()
