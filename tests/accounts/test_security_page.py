"""The 安全管理员's page: role grants under 三员分立 and the address-book field policy."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from officeapp.accounts import services
from officeapp.audit.models import AuditEvent
from officeapp.org.models import DirectoryFieldPolicy, Role, RoleGrant
from tests.accounts.support import SIGN_IN_URL

SECURITY = "/accounts/security/"
GRANT = "/accounts/security/grants/"
POLICY = "/accounts/security/directory-policy/"


@pytest.fixture
def as_security_admin(client, cast, sign_in):
    """The 安全管理员, signed in with a verified second factor."""
    sign_in(cast.security_admin)
    device = TOTPDevice.objects.create(user=cast.security_admin, name="身份验证器", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def test_security_admin_sees_the_grants(as_security_admin, cast):
    page = as_security_admin.get(SECURITY)
    html = page.content.decode()
    assert page.status_code == 200
    assert "角色授权" in html and "林小梅" in html and "通讯录字段可见范围" in html


def test_grants_can_be_filtered_by_role_and_name(as_security_admin, cast):
    html = as_security_admin.get(SECURITY, {"role": Role.CLERK}).content.decode()
    assert "吴晓燕" in html and "林小梅" not in html
    html = as_security_admin.get(SECURITY, {"q": "林"}).content.decode()
    assert "林小梅" in html and "吴晓燕" not in html
    assert as_security_admin.get(SECURITY, {"role": "no-such", "page": "zz"}).status_code == 200


def test_a_search_with_a_nul_character_searches_without_it(as_security_admin, cast):
    # PostgreSQL refuses NUL in a string: the search must not reach it with one.
    page = as_security_admin.get(SECURITY, {"q": "林\x00"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "林小梅" in html and "吴晓燕" not in html


@pytest.mark.parametrize("who", ["drafter", "leader", "outsider", "other_clerk"])
def test_other_users_get_403(client, cast, sign_in, who):
    sign_in(getattr(cast, who))
    assert client.get(SECURITY).status_code == 403
    assert client.post(GRANT, {"username": "outsider", "role": Role.CLERK}).status_code == 403
    assert not RoleGrant.objects.filter(user=cast.outsider).exists()


def test_system_and_audit_admins_get_403_too(client, cast, sign_in):
    for admin in (cast.system_admin, cast.audit_admin):
        sign_in(admin)
        device = TOTPDevice.objects.create(user=admin, name="x", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        assert client.get(SECURITY).status_code == 403


def test_anonymous_is_sent_to_sign_in(client, db):
    assert client.get(SECURITY)["Location"].startswith(SIGN_IN_URL)


def test_security_admin_grants_a_role_with_a_scope(as_security_admin, cast):
    response = as_security_admin.post(
        GRANT, {"username": "outsider", "role": Role.HANDLER, "department_code": "GD-JYT-GJ"}, follow=True
    )
    assert "已授予" in response.content.decode()
    grant = RoleGrant.objects.get(user=cast.outsider)
    assert (grant.role, grant.department, grant.granted_by) == (
        Role.HANDLER,
        cast.higher_ed,
        cast.security_admin,
    )
    event = AuditEvent.objects.get(action="org.role.grant", actor=cast.security_admin)
    assert event.details == {
        "role": Role.HANDLER,
        "grant": grant.pk,
        "agency": None,
        "department": cast.higher_ed.pk,
    }


def test_three_admin_roles_never_meet_in_one_user(as_security_admin, cast):
    before = RoleGrant.objects.count()
    response = as_security_admin.post(GRANT, {"username": "system_admin", "role": Role.AUDIT_ADMIN})
    html = response.content.decode()
    assert "三员分立" in html and "系统管理员" in html
    assert 'value="system_admin"' in html  # what was typed comes back
    assert RoleGrant.objects.count() == before


def test_a_second_grant_of_the_same_admin_role_is_refused(as_security_admin, cast):
    response = as_security_admin.post(
        GRANT, {"username": "audit_admin", "role": Role.AUDIT_ADMIN, "agency_code": "GD-CZT"}
    )
    assert "三员分立" in response.content.decode()


def test_security_admin_cannot_change_their_own_grants(as_security_admin, cast):
    response = as_security_admin.post(GRANT, {"username": "security_admin", "role": Role.CLERK})
    assert "不能修改自己的角色授权" in response.content.decode()
    own = RoleGrant.objects.get(user=cast.security_admin)
    revoke = as_security_admin.post(reverse("accounts:security_revoke", args=[own.pk]), follow=True)
    assert "不能修改自己的角色授权" in revoke.content.decode()
    assert RoleGrant.objects.filter(pk=own.pk).exists()


def test_bad_grant_input_is_refused_in_chinese(as_security_admin, cast):
    cases = [
        ({"username": "", "role": Role.CLERK}, "请输入用户名"),
        ({"username": "ghost", "role": Role.CLERK}, "该用户不存在或已停用"),
        ({"username": "outsider", "role": "emperor"}, "请选择有效的角色"),
        ({"username": "outsider", "role": Role.CLERK, "agency_code": "NOPE"}, "没有这个机关代码"),
        ({"username": "outsider", "role": Role.CLERK, "department_code": "NOPE"}, "没有这个部门代码"),
        (
            {
                "username": "outsider",
                "role": Role.CLERK,
                "agency_code": "GD-JYT",
                "department_code": "GD-JYT-GJ",
            },
            "不能同时指定",
        ),
        ({"username": "drafter", "role": Role.DRAFTER, "agency_code": "GD-BGT"}, "已有此角色授权"),
    ]
    before = RoleGrant.objects.count()
    for data, message in cases:
        response = as_security_admin.post(GRANT, data)
        assert response.status_code == 200
        assert message in response.content.decode(), message
    assert RoleGrant.objects.count() == before


def test_security_admin_revokes_a_grant(as_security_admin, cast):
    grant = RoleGrant.objects.get(user=cast.clerk)
    response = as_security_admin.post(reverse("accounts:security_revoke", args=[grant.pk]), follow=True)
    assert "已撤销" in response.content.decode()
    assert not RoleGrant.objects.filter(pk=grant.pk).exists()
    event = AuditEvent.objects.get(action="org.role.revoke")
    assert event.details["role"] == Role.CLERK and event.details["agency"] == cast.gov_office.pk


def test_revoking_a_missing_grant_is_404(as_security_admin, cast):
    assert as_security_admin.post(reverse("accounts:security_revoke", args=[999999])).status_code == 404


def test_revoke_needs_post(as_security_admin, cast):
    grant = RoleGrant.objects.get(user=cast.clerk)
    assert as_security_admin.get(reverse("accounts:security_revoke", args=[grant.pk])).status_code == 405


def test_security_admin_sets_the_directory_policy(as_security_admin, cast):
    data = {
        "mobile": "same_department",
        "office_phone": "everyone",
        "email": "same_agency",
        "employee_no": "nobody",
    }
    response = as_security_admin.post(POLICY, data, follow=True)
    assert "已保存" in response.content.decode()
    assert dict(DirectoryFieldPolicy.objects.values_list("field", "visibility")) == data
    event = AuditEvent.objects.get(action="org.directory_policy.set")
    assert event.details["changed"]["mobile"] == "same_department"
    again = as_security_admin.post(POLICY, data, follow=True)
    assert "没有变化" in again.content.decode()


def test_bad_directory_policy_is_refused(as_security_admin, cast):
    response = as_security_admin.post(POLICY, {"mobile": "the-whole-world", "office_phone": "everyone"})
    html = response.content.decode()
    assert "请选择有效的可见范围" in html and "请选择可见范围" in html
    assert not DirectoryFieldPolicy.objects.exists()


def test_services_refuse_anyone_but_the_security_admin(cast):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.grant_role(actor=cast.system_admin, user=cast.outsider, role=Role.CLERK)
    with pytest.raises(PermissionDenied):
        services.set_directory_policy(actor=cast.drafter, visibility={"mobile": "nobody"})


def test_disabled_user_gets_no_grant(cast):
    from officeapp.org.models import User

    User.objects.filter(pk=cast.outsider.pk).update(is_active=False)
    with pytest.raises(services.AccountsRefused, match="已停用"):
        services.grant_role(actor=cast.security_admin, user=cast.outsider, role=Role.CLERK)
