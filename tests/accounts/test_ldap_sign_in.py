"""LDAP sign-in through the real sign-in page against a real slapd (tests/slapd.py): the directory's
password signs in the mapped existing user, every refusal counts toward the lockout like a local
one, nobody is created or changed from the directory, and local passwords survive an outage."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.test import Client
from django.urls import reverse

from officeapp.accounts import identity
from officeapp.accounts.models import SignInThrottle, ThrottleKind
from officeapp.audit.models import AuditEvent, Outcome
from officeapp.org.models import User
from tests.accounts.support import SIGN_IN_URL
from tests.slapd import SlapdServer

GENERIC = "用户名或密码错误"


def use_ldap(settings: Any, server: SlapdServer, **options: Any) -> None:
    """Point the settings at the test directory as settings_from_env would for these variables."""
    ldap_only = options.pop("ldap_only", False)
    for name, value in identity.ldap_settings(
        server_uri=server.uri,
        user_search_base=server.people_dn,
        bind_dn=server.search_dn,
        bind_password=server.search_password,
        timeout_seconds=2,
        **options,
    ).items():
        setattr(settings, name, value)
    settings.AUTHENTICATION_BACKENDS = identity.authentication_backends(
        ldap=True, oidc=False, ldap_only=ldap_only, oidc_only=False
    )


@pytest.fixture
def ldap_on(settings: Any, slapd: SlapdServer) -> SlapdServer:
    use_ldap(settings, slapd)
    return slapd


def post(client: Client, username: str, password: str) -> Any:
    return client.post(SIGN_IN_URL, {"username": username, "password": password})


def signed_in_as(client: Client) -> int | None:
    raw = client.session.get("_auth_user_id")
    return int(raw) if raw else None


def failures_of(username: str) -> int:
    row = SignInThrottle.objects.filter(kind=ThrottleKind.ACCOUNT, key=username).first()
    return row.failures if row else 0


def test_the_directory_password_signs_in_the_user_with_the_same_username(client, cast, ldap_on):
    response = post(client, "drafter", ldap_on.person("drafter").password)
    assert response.status_code == 302
    assert response["Location"] == reverse("workbench:home")
    assert signed_in_as(client) == cast.drafter.pk
    # The session is the local backend's, as after a local password (its get_user serves every page).
    assert client.session["_auth_user_backend"] == identity.LOCAL_BACKEND
    assert client.get(reverse("workbench:home")).status_code == 200
    mapped = AuditEvent.objects.get(action="accounts.identity.ldap", actor=cast.drafter)
    assert mapped.details["source"] == "ldap"
    assert mapped.details["dn"] == f"uid=drafter,{ldap_on.people_dn}"
    assert AuditEvent.objects.filter(action="accounts.sign_in", actor=cast.drafter).exists()


def test_the_local_password_still_signs_in_beside_the_directory(client, cast, ldap_on, cast_password):
    assert post(client, "drafter", cast_password).status_code == 302
    assert signed_in_as(client) == cast.drafter.pk
    assert not AuditEvent.objects.filter(action="accounts.identity.ldap").exists()


def test_a_directory_sign_in_writes_no_field_of_the_user(client, cast, ldap_on):
    before = User.objects.filter(pk=cast.drafter.pk).values().get()
    post(client, "drafter", ldap_on.person("drafter").password)
    after = User.objects.filter(pk=cast.drafter.pk).values().get()
    # The directory's cn (起草人) and everything else stay as officeapp's administrators keep them;
    # only Django's own last_login moves.
    assert {k: v for k, v in after.items() if k != "last_login"} == {
        k: v for k, v in before.items() if k != "last_login"
    }


def test_a_wrong_directory_password_is_refused_and_counted_toward_the_lockout(
    client, cast, ldap_on, settings
):
    settings.SIGN_IN_MAX_FAILURES = 3
    for attempt in range(1, 3):
        response = post(client, "drafter", "Not-The-Ldap-Passw0rd")
        assert GENERIC in response.content.decode()
        assert failures_of("drafter") == attempt
    locked = post(client, "drafter", "Not-The-Ldap-Passw0rd")
    assert "账号已锁定" in locked.content.decode()
    # Locked: the right directory password is refused too, and the directory is not even asked.
    refused = post(client, "drafter", ldap_on.person("drafter").password)
    assert "账号已锁定" in refused.content.decode()
    assert signed_in_as(client) is None
    assert authenticate(None, username="drafter", password=ldap_on.person("drafter").password) is None


def test_a_name_the_directory_does_not_know_is_refused_like_a_wrong_password(client, cast, ldap_on):
    response = post(client, "nobody.here", "Whatever-Passw0rd")
    assert GENERIC in response.content.decode()
    assert signed_in_as(client) is None
    assert failures_of("nobody.here") == 1


def test_a_directory_account_with_no_officeapp_user_is_refused_and_nobody_is_created(client, cast, ldap_on):
    count = User.objects.count()
    user = authenticate(None, username="ldap_only", password=ldap_on.person("ldap_only").password)
    assert user is None
    refusal = identity.take_refusal()
    assert refusal is not None
    assert refusal.message == "统一身份认证账号未关联本系统用户，请联系系统管理员。"
    assert (refusal.source, refusal.reason) == ("ldap", "unlinked")

    response = post(client, "ldap_only", ldap_on.person("ldap_only").password)
    assert response.status_code == 200
    assert identity.MSG_UNLINKED in response.content.decode()
    assert signed_in_as(client) is None
    assert User.objects.count() == count
    denied = AuditEvent.objects.filter(action="accounts.identity.ldap", outcome=Outcome.DENIED).last()
    assert denied is not None and denied.details["reason"] == "unlinked"


def test_a_disabled_user_is_refused_even_with_the_right_directory_password(client, cast, ldap_on):
    User.objects.filter(pk=cast.clerk.pk).update(is_active=False)
    response = post(client, "clerk", ldap_on.person("clerk").password)
    assert GENERIC in response.content.decode()
    assert signed_in_as(client) is None
    assert failures_of("clerk") == 1
    denied = AuditEvent.objects.get(action="accounts.identity.ldap", outcome=Outcome.DENIED)
    assert denied.details["reason"] == "disabled"


def test_an_administrator_still_needs_the_totp_code_after_a_directory_sign_in(client, cast, ldap_on):
    response = post(client, "system_admin", ldap_on.person("system_admin").password)
    assert response.status_code == 302
    assert signed_in_as(client) == cast.system_admin.pk
    page = client.get(reverse("workbench:home"))
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("accounts:verify_otp"))


def test_mapping_by_employee_number_signs_in_the_user_with_that_employee_no(client, cast, settings, slapd):
    use_ldap(settings, slapd, match_attribute="employeeNumber", match_field="employee_no")
    User.objects.filter(pk=cast.drafter.pk).update(employee_no="E-DRAFTER")
    # zhang.san is a directory login of its own; its employeeNumber is the drafter's 工号.
    assert post(client, "zhang.san", slapd.person("zhang.san").password).status_code == 302
    assert signed_in_as(client) == cast.drafter.pk
    client.logout()
    # Matched by 工号 only: the directory's `clerk` has a 工号 no user holds.
    assert post(client, "clerk", slapd.person("clerk").password).status_code == 200
    assert signed_in_as(client) is None
    assert authenticate(None, username="clerk", password=slapd.person("clerk").password) is None
    refusal = identity.take_refusal()
    assert refusal is not None and refusal.reason == "unlinked"


def test_with_the_directory_down_local_passwords_still_work_and_directory_users_are_told(
    cast,
    settings,
    slapd_outage,
    cast_password,
):
    use_ldap(settings, slapd_outage)
    local = Client()
    assert post(local, "drafter", cast_password).status_code == 302
    assert signed_in_as(local) == cast.drafter.pk

    assert authenticate(None, username="clerk", password=slapd_outage.person("clerk").password) is None
    refusal = identity.take_refusal()
    assert refusal is not None
    assert refusal.message == "统一身份认证服务暂时不可用，请稍后再试。"
    assert refusal.reason == "unavailable"

    outsider = Client()
    response = post(outsider, "clerk", slapd_outage.person("clerk").password)
    assert response.status_code == 200
    assert identity.MSG_UNAVAILABLE in response.content.decode()
    assert signed_in_as(outsider) is None
    # Counted all the same: an outage must not open unlimited guessing at local passwords.
    assert failures_of("clerk") == 1
    assert AuditEvent.objects.filter(
        action="accounts.identity.ldap", outcome=Outcome.FAILED, details__reason="unavailable"
    ).exists()


def test_under_ldap_only_a_local_password_works_for_the_three_administrators_alone(
    cast,
    settings,
    slapd,
    cast_password,
):
    use_ldap(settings, slapd, ldap_only=True)
    assert settings.AUTHENTICATION_BACKENDS[0] == identity.LDAP_BACKEND
    staff = Client()
    assert post(staff, "drafter", cast_password).status_code == 200
    assert signed_in_as(staff) is None
    assert post(staff, "drafter", slapd.person("drafter").password).status_code == 302
    admin = Client()
    assert post(admin, "security_admin", cast_password).status_code == 302
    assert signed_in_as(admin) == cast.security_admin.pk


def test_settings_from_env_selects_nothing_when_nothing_is_set():
    chosen = identity.settings_from_env({})
    assert chosen["AUTHENTICATION_BACKENDS"] == [identity.LOCAL_BACKEND]
    assert "AUTH_LDAP_SERVER_URI" not in chosen


def test_settings_from_env_never_lets_the_directory_write_a_user():
    chosen = identity.settings_from_env(
        {
            "LDAP_SERVER_URI": "ldap://127.0.0.1:389",
            "LDAP_USER_SEARCH_BASE": "ou=people,dc=gd,dc=gov,dc=cn",
            "LDAP_MATCH_ATTRIBUTE": "employeeNumber",
            "LDAP_MATCH_FIELD": "employee_no",
        }
    )
    assert chosen["AUTHENTICATION_BACKENDS"] == [identity.LOCAL_BACKEND, identity.LDAP_BACKEND]
    assert chosen["AUTH_LDAP_USER_ATTR_MAP"] == {}
    assert chosen["AUTH_LDAP_ALWAYS_UPDATE_USER"] is False
    assert chosen["AUTH_LDAP_NO_NEW_USERS"] is True
    assert chosen["OFFICEAPP_LDAP_MATCH"] == ("employeeNumber", "employee_no")
    assert chosen["AUTH_LDAP_USER_SEARCH"].filterstr == "(uid=%(user)s)"


def test_settings_from_env_refuses_a_match_field_that_is_not_unique():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="LDAP_MATCH_FIELD"):
        identity.settings_from_env(
            {"LDAP_SERVER_URI": "ldap://x", "LDAP_USER_SEARCH_BASE": "dc=x", "LDAP_MATCH_FIELD": "real_name"}
        )
