"""应用管理 pages: register, edit, rotate, suspend/resume, the call log; invalid input keeps what was typed."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from officeapp.audit.models import AuditEvent
from officeapp.integration import services
from officeapp.integration.models import App, AppStatus
from officeapp.org.models import Role, RoleGrant

pytestmark = pytest.mark.django_db

FORM = {
    "name": "财务报销系统",
    "icon": "报",
    "url": "https://cwbx.example.test/",
    "description": "差旅报销",
    "redirect_uris": "https://cwbx.example.test/callback\nhttps://cwbx.example.test/cb2",
    "post_logout_redirect_uris": "",
    "scopes": ["todos.write", "notifications.write"],
    "rate_limit_per_minute": "120",
}


def agency_admin(cast: Any) -> Any:
    RoleGrant.objects.create(user=cast.other_clerk, role=Role.AGENCY_ADMIN, agency=cast.finance)
    return cast.other_clerk


def registered(cast: Any, agency: Any, name: str = "行政审批系统") -> App:
    return services.register_app(
        cast.system_admin,
        owner_agency=agency,
        name=name,
        url="https://xzsp.example.test/",
        redirect_uris=["https://xzsp.example.test/cb"],
    ).app


def test_an_agency_admin_registers_an_app_and_sees_both_secrets_once(cast, sign_in_verified):
    client = sign_in_verified(agency_admin(cast))
    response = client.post(reverse("integration:new"), {**FORM, "owner_agency": cast.finance.pk})
    assert response.status_code == 200
    app = App.objects.get(name="财务报销系统")
    assert app.owner_agency == cast.finance and app.scopes == ["todos.write", "notifications.write"]
    text = response.text
    assert "密钥只显示这一次" in text and response["Cache-Control"] == "no-store"
    assert app.sso_client.client_id in text and app.service_client.client_id in text
    assert text.count('data-copy="#secret-') == 2
    # The app's page shows the client ids, never a secret.
    detail = client.get(reverse("integration:detail", args=[app.pk])).text
    assert app.service_client.client_id in detail and "client_secret" not in detail


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": ""}, "请填写应用名称。"),
        ({"redirect_uris": "ftp://cwbx.example.test/cb"}, "回调地址“ftp://cwbx.example.test/cb”无效"),
        ({"redirect_uris": ""}, "请至少填写一个登录回调地址。"),
        ({"url": "javascript:alert(1)"}, "访问地址须是完整的网址"),
        ({"scopes": ["todos.write", "root"]}, "未知的授权范围：root"),
        ({"rate_limit_per_minute": "abc"}, "每分钟调用上限须为整数。"),
        ({"visible_agencies": ["99999999999999999999"]}, "请选择有效的机关。"),
        ({"visible_roles": ["king"]}, "未知的角色：king"),
        ({"skip_consent": "on"}, "只有系统管理员可以设置免授权确认。"),
        ({"data_agencies": ["GOV"]}, "请选择有效的机关。"),
    ],
)
def test_an_invalid_registration_re_renders_with_what_was_typed(cast, sign_in_verified, change, message):
    client = sign_in_verified(agency_admin(cast))
    data = {**FORM, "owner_agency": cast.finance.pk, "description": "保留我输入的简介", **change}
    response = client.post(reverse("integration:new"), data)
    assert response.status_code == 400
    assert message in response.text
    assert "保留我输入的简介" in response.text
    if change.get("name") != "":
        assert "财务报销系统" in response.text
    assert not App.objects.exists()


def test_a_name_taken_in_the_agency_is_refused_on_the_name_field(cast, sign_in_verified):
    registered(cast, cast.finance, name="财务报销系统")
    client = sign_in_verified(agency_admin(cast))
    response = client.post(reverse("integration:new"), {**FORM, "owner_agency": cast.finance.pk})
    assert response.status_code == 400 and "本单位已有同名应用：财务报销系统。" in response.text
    assert "https://cwbx.example.test/cb2" in response.text


def test_an_agency_admin_cannot_register_for_another_agency(cast, sign_in_verified):
    client = sign_in_verified(agency_admin(cast))
    response = client.post(reverse("integration:new"), {**FORM, "owner_agency": cast.gov_office.pk})
    assert response.status_code == 400 and "请选择您管理的机关。" in response.text
    assert not App.objects.exists()


def test_editing_saves_and_an_invalid_edit_keeps_the_input(cast, sign_in_verified):
    app = registered(cast, cast.finance)
    client = sign_in_verified(agency_admin(cast))
    url = reverse("integration:edit", args=[app.pk])
    page = client.get(url).text
    assert "行政审批系统" in page and "https://xzsp.example.test/cb" in page

    bad = {**FORM, "name": "新名称", "redirect_uris": "http://", "description": "改过的简介"}
    response = client.post(url, bad)
    assert response.status_code == 400 and "新名称" in response.text and "改过的简介" in response.text
    app.refresh_from_db()
    assert app.name == "行政审批系统"

    response = client.post(
        url,
        {
            **FORM,
            "name": "新名称",
            "visible_departments": [cast.finance_office.pk],
            "visible_roles": ["clerk"],
        },
    )
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.name == "新名称" and list(app.visible_departments.all()) == [cast.finance_office]
    assert app.visible_roles == ["clerk"]


def test_a_department_of_another_agency_is_refused_on_edit(cast, sign_in_verified):
    app = registered(cast, cast.finance)
    client = sign_in_verified(agency_admin(cast))
    response = client.post(
        reverse("integration:edit", args=[app.pk]), {**FORM, "visible_departments": [cast.general_dept.pk]}
    )
    assert response.status_code == 400 and "请选择所属机关的部门。" in response.text


def test_rotating_shows_the_new_secret_once(cast, sign_in_verified):
    app = registered(cast, cast.gov_office)
    client = sign_in_verified(cast.system_admin)
    response = client.post(reverse("integration:rotate", args=[app.pk]), {"which": "service"})
    assert response.status_code == 200 and "密钥只显示这一次" in response.text
    assert app.service_client.client_id in response.text and response["Cache-Control"] == "no-store"
    # No kind chosen: back to the app with a message, nothing rotated.
    response = client.post(reverse("integration:rotate", args=[app.pk]), {})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="integration.app.rotate_secret").count() == 1
    assert client.get(reverse("integration:rotate", args=[app.pk])).status_code == 405


def test_suspend_and_resume_ask_first_and_change_the_status(cast, sign_in_verified):
    app = registered(cast, cast.gov_office)
    client = sign_in_verified(cast.system_admin)
    detail = client.get(reverse("integration:detail", args=[app.pk])).text
    assert 'data-confirm="立即停用“行政审批系统”' in detail
    assert client.post(reverse("integration:suspend", args=[app.pk])).status_code == 302
    app.refresh_from_db()
    assert app.status == AppStatus.SUSPENDED
    # Again: refused with a message, not an error page.
    response = client.post(reverse("integration:suspend", args=[app.pk]), follow=True)
    assert "该应用已停用。" in response.text
    assert client.post(reverse("integration:resume", args=[app.pk])).status_code == 302
    app.refresh_from_db()
    assert app.status == AppStatus.ACTIVE


def test_the_call_log_pages_by_id_and_the_security_and_audit_admins_read_it(
    cast, sign_in_verified, token_for, api
):
    app = registered(cast, cast.gov_office)
    token = token_for(app)
    for _ in range(3):
        api("get", "/api/v1/me", token=token)
    url = reverse("integration:calls", args=[app.pk])
    for reader in (cast.system_admin, cast.security_admin, cast.audit_admin):
        page = sign_in_verified(reader).get(url)
        assert page.status_code == 200 and page.text.count("api.call") == 3
    newest = AuditEvent.objects.filter(object_id=str(app.pk), object_type="integration.app").order_by("-id")
    older = sign_in_verified(cast.system_admin).get(url, {"before": newest[1].pk}).text
    assert older.count("api.call") == 1 and "integration.app.register" in older
    # The security admin manages nothing: the app's own page is a 404 for them.
    assert (
        sign_in_verified(cast.security_admin).get(reverse("integration:detail", args=[app.pk])).status_code
        == 404
    )


def test_the_list_shows_what_the_user_manages_and_the_nav_entry_follows(cast, sign_in_verified):
    registered(cast, cast.gov_office, name="办公厅系统")
    registered(cast, cast.finance, name="财政系统")
    page = sign_in_verified(agency_admin(cast)).get(reverse("integration:apps")).text
    assert "财政系统" in page and "办公厅系统" not in page
    assert 'href="/integration/"' in page
    assert 'href="/integration/"' not in sign_in_verified(cast.drafter).get(reverse("workbench:home")).text
