import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from officeapp.org.models import Agency, Delegation, Department, Portfolio, Position, Role, User
from officeapp.org.services import grant_role


@pytest.fixture
def agency_admin(cast):
    """office_director also maintains the org of 省府办公厅 (单位管理员)."""
    grant_role(actor=None, user=cast.office_director, role=Role.AGENCY_ADMIN, agency=cast.gov_office)
    return cast.office_director


# --- 通讯录 ------------------------------------------------------------------------------------------


def test_directory_search_page_lists_matches(cast, sign_in_verified):
    client = sign_in_verified(cast.outsider)
    response = client.get(reverse("org:directory"), {"q": "lxm"})
    assert response.status_code == 200
    assert "林小梅" in response.text
    assert "13800000001" not in response.text  # another agency's mobile stays hidden


def test_directory_live_search_returns_only_the_results_fragment(cast, sign_in_verified):
    client = sign_in_verified(cast.clerk)
    response = client.get(reverse("org:directory_search"), {"q": "综合"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "陈志强" in response.text and "13800000002" in response.text


def test_directory_search_without_results_says_so(cast, sign_in_verified):
    response = sign_in_verified(cast.drafter).get(reverse("org:directory"), {"q": "不存在的人"})
    assert "没有找到" in response.text


def test_org_tree_expands_agency_then_department(cast, sign_in_verified):
    client = sign_in_verified(cast.outsider)
    home = client.get(reverse("org:directory"))
    assert "广东省人民政府" in home.text
    level = client.get(reverse("org:directory_agency", args=[cast.gov_office.pk]), HTTP_HX_REQUEST="true")
    assert "综合处" in level.text
    members = client.get(
        reverse("org:directory_department", args=[cast.general_dept.pk]), HTTP_HX_REQUEST="true"
    )
    assert "林小梅" in members.text and "陈志强" in members.text


def test_person_card_respects_the_mobile_policy(cast, sign_in_verified):
    url = reverse("org:person", args=[cast.drafter.pk])
    assert "13800000001" not in sign_in_verified(cast.outsider).get(url).text
    assert "13800000001" in sign_in_verified(cast.clerk).get(url).text


def test_person_card_of_a_missing_user_is_404(cast, sign_in_verified):
    assert sign_in_verified(cast.drafter).get(reverse("org:person", args=[999999])).status_code == 404


def test_directory_needs_sign_in(cast, client):
    response = client.get(reverse("org:directory"))
    assert response.status_code == 302


def test_audit_admin_does_not_use_the_directory(cast, sign_in_verified):
    assert sign_in_verified(cast.audit_admin).get(reverse("org:directory")).status_code == 403


# --- 组织管理 ------------------------------------------------------------------------------------------


def test_drafter_gets_403_on_org_management(cast, sign_in_verified):
    client = sign_in_verified(cast.drafter)
    assert client.get(reverse("org:manage")).status_code == 403
    assert client.get(reverse("org:department_edit", args=[cast.general_dept.pk])).status_code == 403


def test_system_admin_sees_the_whole_tree(cast, sign_in_verified):
    client = sign_in_verified(cast.system_admin)
    response = client.get(reverse("org:manage"))
    assert response.status_code == 200 and "广东省人民政府" in response.text
    children = client.get(
        reverse("org:manage_children", args=[cast.gov_office.parent_id]), HTTP_HX_REQUEST="true"
    )
    assert "广东省财政厅" in children.text and "广东省教育厅" in children.text


def test_system_admin_edits_a_department_of_any_agency(cast, sign_in_verified):
    client = sign_in_verified(cast.system_admin)
    url = reverse("org:department_edit", args=[cast.finance_office.pk])
    response = client.post(
        url,
        {
            "name": "厅办公室",
            "code": "GD-CZT-BGS",
            "parent": "",
            "kind": "office",
            "phone": "020-1",
            "sort_order": "1",
        },
    )
    assert response.status_code == 302
    cast.finance_office.refresh_from_db()
    assert cast.finance_office.name == "厅办公室"


def test_agency_admin_edits_a_department_of_their_agency(cast, sign_in_verified, agency_admin):
    client = sign_in_verified(agency_admin)
    url = reverse("org:department_edit", args=[cast.general_dept.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "name": "综合一处",
            "code": "GD-BGT-ZH",
            "parent": cast.office.pk,
            "kind": "general",
            "phone": "",
            "sort_order": "0",
        },
    )
    assert response.status_code == 302
    cast.general_dept.refresh_from_db()
    assert cast.general_dept.name == "综合一处"
    assert cast.general_dept.path.startswith(cast.office.path)


def test_agency_admin_gets_404_for_another_agencys_department(cast, sign_in_verified, agency_admin):
    client = sign_in_verified(agency_admin)
    url = reverse("org:department_edit", args=[cast.finance_office.pk])
    assert client.get(url).status_code == 404
    assert (
        client.post(url, {"name": "改掉", "code": "X", "kind": "general", "sort_order": "0"}).status_code
        == 404
    )
    assert Department.objects.get(pk=cast.finance_office.pk).name == "办公室"
    assert client.get(reverse("org:manage_agency", args=[cast.finance.pk])).status_code == 404
    assert client.get(reverse("org:user_edit", args=[cast.other_clerk.pk])).status_code == 404


def test_invalid_department_form_re_renders_with_what_was_typed(cast, sign_in_verified, agency_admin):
    client = sign_in_verified(agency_admin)
    response = client.post(
        reverse("org:department_create", args=[cast.gov_office.pk]),
        {"name": "秘书处", "code": "BRAND-NEW", "kind": "general", "sort_order": "0"},
    )
    assert response.status_code == 200
    assert "同一上级下已有同名部门" in response.text
    assert 'value="BRAND-NEW"' in response.text


def test_creating_a_user_shows_the_initial_password_once(cast, sign_in_verified, agency_admin):
    client = sign_in_verified(agency_admin)
    response = client.post(
        reverse("org:user_create", args=[cast.gov_office.pk]),
        {
            "username": "newbie",
            "real_name": "新同事",
            "department": cast.general_dept.pk,
            "mobile": "13912345678",
            "sort_order": "0",
            "employee_no": "",
            "email": "",
        },
    )
    assert response.status_code == 200
    user = User.objects.get(username="newbie")
    assert user.must_change_password and user.name_initials == "xts"
    password = response.text.split("<code>")[1].split("</code>")[0]
    assert user.check_password(password)
    assert response["Cache-Control"] == "no-store"


def test_bad_mobile_is_refused_in_chinese(cast, sign_in_verified):
    client = sign_in_verified(cast.system_admin)
    response = client.post(
        reverse("org:user_edit", args=[cast.drafter.pk]),
        {"real_name": "林小梅", "mobile": "12345", "sort_order": "0"},
    )
    assert response.status_code == 200
    assert "手机号格式不正确" in response.text and 'value="12345"' in response.text


def test_disable_page_hands_work_to_a_named_successor(cast, sign_in_verified):
    client = sign_in_verified(cast.system_admin)
    now = timezone.now()
    Delegation.objects.create(
        from_user=cast.leader, to_user=cast.drafter, starts_at=now, ends_at=now + timedelta(days=1)
    )
    url = reverse("org:user_disable", args=[cast.drafter.pk])
    page = client.get(url)
    assert "委托：1 项" in page.text and "陈志强" in page.text
    response = client.post(url, {"successor": "BGT003"})
    assert response.status_code == 302
    assert Delegation.objects.get(from_user=cast.leader).to_user == cast.office_secretary
    assert not User.objects.get(pk=cast.drafter.pk).is_active


def test_disable_with_an_unknown_successor_re_renders(cast, sign_in_verified):
    response = sign_in_verified(cast.system_admin).post(
        reverse("org:user_disable", args=[cast.drafter.pk]), {"successor": "nobody"}
    )
    assert response.status_code == 200 and "未找到该用户" in response.text
    assert User.objects.get(pk=cast.drafter.pk).is_active


def test_transfer_moves_the_user(cast, sign_in_verified):
    response = sign_in_verified(cast.system_admin).post(
        reverse("org:user_transfer", args=[cast.drafter.pk]),
        {"department": cast.office.pk, "position": "", "successor": ""},
    )
    assert response.status_code == 302
    assert User.objects.get(pk=cast.drafter.pk).department == cast.office


def test_reset_password_needs_post_and_forces_a_change(cast, sign_in_verified):
    client = sign_in_verified(cast.system_admin)
    url = reverse("org:user_reset_password", args=[cast.drafter.pk])
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code == 200
    assert User.objects.get(pk=cast.drafter.pk).must_change_password


def test_import_page_lists_every_bad_row_and_imports_nothing(cast, sign_in_verified):
    from tests.org.test_spreadsheets import xlsx

    upload = xlsx(
        users=[
            ("u1", "甲", "", "NOPE", "", "", "", "", "", ""),
            ("u2", "乙", "", "GD-BGT-ZH", "", "123", "", "", "", ""),
        ]
    )
    upload.name = "人员.xlsx"
    response = sign_in_verified(cast.system_admin).post(
        reverse("org:import", args=[cast.gov_office.pk]), {"file": upload}
    )
    assert response.status_code == 200
    assert "未导入任何数据" in response.text
    assert "未知部门" in response.text and "手机号" in response.text
    assert not User.objects.filter(username__in=["u1", "u2"]).exists()


def test_import_page_refuses_a_file_that_is_not_excel(cast, sign_in_verified):
    upload = io.BytesIO(b"not a spreadsheet")
    upload.name = "人员.xlsx"
    response = sign_in_verified(cast.system_admin).post(
        reverse("org:import", args=[cast.gov_office.pk]), {"file": upload}
    )
    assert response.status_code == 200
    assert "field-error" in response.text
    assert not User.objects.filter(username="u1").exists()


def test_import_page_offers_the_initial_passwords_for_download(cast, sign_in_verified):
    from tests.org.test_spreadsheets import xlsx

    upload = xlsx(users=[("u1", "甲", "", "GD-BGT-ZH", "", "", "", "", "", "")])
    upload.name = "人员.xlsx"
    response = sign_in_verified(cast.system_admin).post(
        reverse("org:import", args=[cast.gov_office.pk]), {"file": upload}
    )
    assert "导入成功" in response.text and "下载初始密码表" in response.text
    assert User.objects.get(username="u1").must_change_password


def test_export_downloads_an_xlsx_for_an_admin_only(cast, sign_in_verified, agency_admin):
    response = sign_in_verified(agency_admin).get(reverse("org:export", args=[cast.gov_office.pk]))
    assert response.status_code == 200
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    assert {"部门", "用户"} <= set(workbook.sheetnames)
    assert (
        sign_in_verified(agency_admin).get(reverse("org:export", args=[cast.finance.pk])).status_code == 404
    )


def test_template_download(cast, sign_in_verified):
    response = sign_in_verified(cast.system_admin).get(reverse("org:import_template"))
    assert response.status_code == 200 and response.content[:2] == b"PK"


def test_portfolio_page_adds_and_removes(cast, sign_in_verified, agency_admin):
    client = sign_in_verified(agency_admin)
    url = reverse("org:portfolios", args=[cast.gov_office.pk])
    assert client.post(url, {"leader": "leader", "department": cast.secretariat.pk}).status_code == 302
    portfolio = Portfolio.objects.get(leader=cast.leader, department=cast.secretariat)
    again = client.post(url, {"leader": "leader", "department": cast.secretariat.pk})
    assert "该分管关系已存在" in again.text
    assert client.post(reverse("org:portfolio_remove", args=[portfolio.pk])).status_code == 302
    assert not Portfolio.objects.filter(pk=portfolio.pk).exists()


# --- 委托 -----------------------------------------------------------------------------------------------


def test_user_delegates_their_own_work_and_revokes_it(cast, sign_in_verified):
    client = sign_in_verified(cast.leader)
    start = timezone.localtime() + timedelta(days=1)
    response = client.post(
        reverse("org:delegations"),
        {
            "to_user": "dept_head",
            "scope": "all",
            "reason": "出差",
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    delegation = Delegation.objects.get(from_user=cast.leader)
    assert delegation.to_user == cast.dept_head
    assert client.post(reverse("org:delegation_revoke", args=[delegation.pk])).status_code == 302
    delegation.refresh_from_db()
    assert delegation.revoked_at is not None


def test_delegation_with_end_before_start_re_renders_with_the_reason(cast, sign_in_verified):
    start = timezone.localtime() + timedelta(days=1)
    response = sign_in_verified(cast.leader).post(
        reverse("org:delegations"),
        {
            "to_user": "dept_head",
            "scope": "all",
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 200 and "结束时间必须晚于开始时间" in response.text
    assert not Delegation.objects.exists()


def test_outsider_gets_404_for_someone_elses_delegation(cast, sign_in_verified):
    now = timezone.now()
    delegation = Delegation.objects.create(
        from_user=cast.leader, to_user=cast.dept_head, starts_at=now, ends_at=now + timedelta(days=1)
    )
    response = sign_in_verified(cast.outsider).post(reverse("org:delegation_revoke", args=[delegation.pk]))
    assert response.status_code == 404


def test_agency_admin_cannot_touch_the_three_administrators(cast, sign_in_verified, agency_admin):
    client = sign_in_verified(agency_admin)
    for name in ("org:user_edit", "org:user_disable", "org:user_transfer"):
        assert client.get(reverse(name, args=[cast.security_admin.pk])).status_code == 404
    assert client.post(reverse("org:user_reset_password", args=[cast.security_admin.pk])).status_code == 404
    assert not User.objects.get(pk=cast.security_admin.pk).must_change_password
    # The system administrator maintains accounts, those included.
    assert (
        sign_in_verified(cast.system_admin)
        .get(reverse("org:user_edit", args=[cast.security_admin.pk]))
        .status_code
        == 200
    )


def test_agency_admin_is_not_offered_actions_on_the_three_administrators(
    cast, sign_in_verified, agency_admin
):
    text = sign_in_verified(agency_admin).get(reverse("org:manage_agency", args=[cast.gov_office.pk])).text
    assert cast.security_admin.real_name in text
    assert reverse("org:user_edit", args=[cast.security_admin.pk]) not in text
    assert reverse("org:user_reset_password", args=[cast.security_admin.pk]) not in text
    assert reverse("org:user_edit", args=[cast.drafter.pk]) in text
    # The system administrator maintains them, so the actions are there for them.
    text = (
        sign_in_verified(cast.system_admin).get(reverse("org:manage_agency", args=[cast.gov_office.pk])).text
    )
    assert reverse("org:user_edit", args=[cast.security_admin.pk]) in text


def test_a_hand_edited_page_or_department_number_gives_an_empty_page_not_a_server_error(
    cast, sign_in_verified
):
    huge = "9" * 30
    client = sign_in_verified(cast.system_admin)
    response = client.get(reverse("org:directory"), {"q": "林", "page": huge})
    assert response.status_code == 200 and "没有找到" in response.text
    response = client.get(reverse("org:directory_department", args=[cast.general_dept.pk]), {"page": huge})
    assert response.status_code == 200 and cast.drafter.real_name not in response.text
    response = client.get(reverse("org:manage_agency", args=[cast.gov_office.pk]), {"department": huge})
    assert response.status_code == 200 and "没有符合条件的人员" in response.text
    response = client.get(
        reverse("org:manage_agency", args=[cast.gov_office.pk]), {"department": cast.general_dept.pk}
    )
    assert cast.drafter.real_name in response.text and cast.security_admin.real_name not in response.text


def test_a_sort_order_too_large_is_refused_in_chinese_and_the_form_keeps_what_was_typed(
    cast, sign_in_verified
):
    client = sign_in_verified(cast.system_admin)
    huge = "9" * 30
    response = client.post(
        reverse("org:agency_edit", args=[cast.gov_office.pk]),
        {"name": "改名的办公厅", "level": cast.gov_office.level, "sort_order": huge},
    )
    assert response.status_code == 200
    assert "排序必须是 0 到 2147483647 之间的整数" in response.text and "改名的办公厅" in response.text
    cast.gov_office.refresh_from_db()
    assert cast.gov_office.name != "改名的办公厅"
    response = client.post(
        reverse("org:user_edit", args=[cast.drafter.pk]),
        {"real_name": cast.drafter.real_name, "sort_order": huge},
    )
    assert response.status_code == 200 and "排序必须是" in response.text


def test_audit_admin_is_sent_from_the_workbench_to_the_audit_log(cast, sign_in_verified):
    response = sign_in_verified(cast.audit_admin).get(reverse("workbench:home"))
    assert response.status_code == 302 and response["Location"] == reverse("audit:events")


def test_admin_adds_and_removes_a_concurrent_post(cast, sign_in_verified, agency_admin):
    client = sign_in_verified(agency_admin)
    response = client.post(
        reverse("org:concurrent_post_add", args=[cast.drafter.pk]),
        {"department": cast.office.pk, "position": ""},
    )
    assert response.status_code == 302
    post = cast.drafter.concurrent_posts.get()
    assert post.department == cast.office
    assert "办公室" in client.get(reverse("org:user_edit", args=[cast.drafter.pk])).text
    # A department of another agency is not offered, and posting it anyway is refused.
    client.post(
        reverse("org:concurrent_post_add", args=[cast.drafter.pk]), {"department": cast.finance_office.pk}
    )
    assert cast.drafter.concurrent_posts.count() == 1
    assert client.post(reverse("org:concurrent_post_remove", args=[post.pk])).status_code == 302
    assert not cast.drafter.concurrent_posts.exists()


def test_directory_search_without_htmx_goes_to_the_page_with_the_query(cast, sign_in_verified):
    response = sign_in_verified(cast.drafter).get(reverse("org:directory_search"), {"q": "林 &x"})
    assert response.status_code == 302 and response["Location"].endswith("?q=%E6%9E%97+%26x")


def test_system_admin_creates_a_subordinate_agency(cast, sign_in_verified):
    # given
    client = sign_in_verified(cast.system_admin)
    url = reverse("org:agency_create", args=[cast.finance.pk])
    # when
    response = client.post(
        url,
        {
            "name": "广东省财政科学研究所",
            "short_name": "财科所",
            "level": "province",
            "code": "GD-CZT-KYS",
            "number_prefix": "粤财科",
            "sort_order": "0",
        },
    )
    # then: it sits under 省财政厅 in the tree, and the admin lands on its page
    agency = Agency.objects.get(code="GD-CZT-KYS")
    assert response.status_code == 302
    assert response["Location"] == reverse("org:manage_agency", args=[agency.pk])
    assert agency.parent == cast.finance and agency.path.startswith(cast.finance.path)


def test_a_taken_agency_code_is_refused_and_what_was_typed_kept(cast, sign_in_verified):
    client = sign_in_verified(cast.system_admin)
    response = client.post(
        reverse("org:agency_create", args=[cast.finance.pk]),
        {"name": "重复代码的机关", "level": "province", "code": "GD-CZT", "sort_order": "0"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "该机构代码已被使用" in body and "重复代码的机关" in body
    assert not Agency.objects.filter(name="重复代码的机关").exists()


def test_agency_admin_cannot_create_under_another_agency(cast, sign_in_verified, agency_admin):
    client = sign_in_verified(agency_admin)
    response = client.get(reverse("org:agency_create", args=[cast.education.pk]))
    assert response.status_code == 404


def test_system_admin_adds_a_position_that_user_forms_then_offer(cast, sign_in_verified):
    client = sign_in_verified(cast.system_admin)
    response = client.post(reverse("org:positions"), {"name": "二级巡视员", "rank": "60"})
    assert response.status_code == 302
    form_page = client.get(reverse("org:user_edit", args=[cast.drafter.pk])).content.decode()
    assert "二级巡视员" in form_page


def test_a_duplicate_position_is_refused_in_chinese(cast, sign_in_verified):
    client = sign_in_verified(cast.system_admin)
    response = client.post(reverse("org:positions"), {"name": "处长", "rank": "50"})
    assert response.status_code == 200
    assert "已有同名职务" in response.content.decode()


def test_agency_admin_may_not_keep_the_province_wide_positions(cast, sign_in_verified, agency_admin):
    response = sign_in_verified(agency_admin).post(reverse("org:positions"), {"name": "新职务", "rank": "1"})
    assert response.status_code == 403
    assert not Position.objects.filter(name="新职务").exists()


def test_refused_department_edit_shows_the_stored_name_and_keeps_the_typing(
    cast, sign_in_verified, monkeypatch
):
    # given: the move is refused after the rename, as when another admin moved the parent meanwhile
    from officeapp.org import services

    def refuse(*args, **kwargs):
        raise services.OrgError("不能把部门移到它自己或其下级部门之下。")

    monkeypatch.setattr(services, "move_department", refuse)
    client = sign_in_verified(cast.system_admin)
    # when
    response = client.post(
        reverse("org:department_edit", args=[cast.general_dept.pk]),
        {
            "name": "综合一处",
            "code": "GD-BGT-ZH",
            "parent": cast.office.pk,
            "kind": "general",
            "phone": "",
            "sort_order": "0",
        },
    )
    # then: the refusal is shown, the title names the stored department, the typed name is in the form
    body = response.content.decode()
    assert response.status_code == 200
    assert "不能把部门移到它自己或其下级部门之下" in body
    assert "编辑部门 · 综合处" in body and 'value="综合一处"' in body
    cast.general_dept.refresh_from_db()
    assert cast.general_dept.name == "综合处"
