import io

import pytest
from django.core.exceptions import PermissionDenied
from openpyxl import Workbook, load_workbook

from officeapp.org import spreadsheets
from officeapp.org.models import Department, Role, RoleGrant, User
from officeapp.outbox.models import OutboxEvent

DEPT_HEADER = ["部门代码*", "部门名称*", "上级部门代码", "类型", "办公电话", "排序"]
USER_HEADER = [
    "用户名*",
    "姓名*",
    "工号",
    "部门代码*",
    "职务",
    "手机",
    "办公电话",
    "电子邮箱",
    "角色",
    "排序",
]


def xlsx(departments=(), users=()):
    workbook = Workbook()
    workbook.remove(workbook.active)
    sheet = workbook.create_sheet("部门")
    sheet.append(DEPT_HEADER)
    for row in departments:
        sheet.append(list(row))
    sheet = workbook.create_sheet("用户")
    sheet.append(USER_HEADER)
    for row in users:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def test_good_file_imports_departments_and_users_with_initial_passwords(cast):
    upload = xlsx(
        departments=[
            ("GD-BGT-FG", "法规处", "", "业务处室", "020-1", 5),
            ("GD-BGT-FG1", "法规一科", "GD-BGT-FG", "", "", ""),
        ],
        users=[
            (
                "wangfang",
                "王芳",
                "BGT100",
                "GD-BGT-FG1",
                "科员",
                13912345678,
                "",
                "wf@gd.example",
                "拟稿人,承办人",
                1,
            ),
            ("liqiang", "李强", "", "GD-BGT-ZH", "", "", "", "", "", ""),
        ],
    )
    result = spreadsheets.import_org(upload, actor=cast.system_admin, agency=cast.gov_office)

    assert result.ok, result.errors
    assert (result.departments, result.users) == (2, 2)
    child = Department.objects.get(code="GD-BGT-FG1")
    assert child.parent.code == "GD-BGT-FG" and child.path.startswith(child.parent.path)
    wang = User.objects.get(username="wangfang")
    assert wang.mobile == "13912345678" and wang.name_pinyin == "wangfang" and wang.must_change_password
    password = {c.username: c.password for c in result.credentials}["wangfang"]
    assert wang.check_password(password)
    assert set(RoleGrant.objects.filter(user=wang).values_list("role", flat=True)) == {
        Role.DRAFTER,
        Role.HANDLER,
    }
    assert User.objects.get(username="liqiang").department == cast.general_dept
    assert OutboxEvent.objects.filter(topic="org.user.changed", object_id=str(wang.pk)).exists()


def test_one_bad_row_imports_nothing_and_every_bad_row_is_listed(cast):
    upload = xlsx(
        departments=[("GD-BGT-ZH", "重复代码", "", "", "", ""), ("NEW-1", "", "", "奇怪类型", "", "x")],
        users=[
            ("ok_user", "好人", "", "GD-BGT-ZH", "", "", "", "", "", ""),
            ("drafter", "重名", "", "GD-BGT-ZH", "", "", "", "", "", ""),
            ("dup", "甲", "BGT001", "NOPE", "", "12345", "", "", "", ""),
            ("dup", "乙", "", "GD-BGT-ZH", "", "", "", "", "系统管理员", ""),
            ("bad_role", "丙", "", "GD-CZT-BGS", "院长", "", "", "not-an-email", "飞行员", ""),
            ("", "", "", "", "", "", "", "", "", ""),  # a blank line is ignored
            ("", "丁", "", "GD-BGT-ZH", "", "", "", "", "", ""),
        ],
    )
    before = User.objects.count()

    result = spreadsheets.import_org(upload, actor=cast.system_admin, agency=cast.gov_office)

    assert not result.ok
    assert User.objects.count() == before
    assert not Department.objects.filter(code="NEW-1").exists()
    reported = {(e.sheet, e.row, e.column) for e in result.errors}
    assert {
        ("部门", 2, "部门代码"),  # code exists
        ("部门", 3, "部门名称"),  # missing name
        ("部门", 3, "类型"),  # unknown kind
        ("部门", 3, "排序"),  # not a number
        ("用户", 3, "用户名"),  # username exists in the database
        ("用户", 4, "工号"),  # 工号 exists in the database
        ("用户", 4, "部门代码"),  # unknown department
        ("用户", 4, "手机"),  # bad mobile
        ("用户", 5, "用户名"),  # duplicate in file
        ("用户", 5, "角色"),  # admin role cannot be imported
        ("用户", 6, "部门代码"),  # department of another agency
        ("用户", 6, "职务"),  # unknown position
        ("用户", 6, "电子邮箱"),
        ("用户", 6, "角色"),  # unknown role
        ("用户", 8, "用户名"),  # missing username
    } <= reported
    assert not any(e.row == 2 and e.sheet == "用户" for e in result.errors)
    assert all(e.message for e in result.errors)


def test_a_sort_order_too_large_for_the_database_is_reported_on_its_row(cast):
    upload = xlsx(
        departments=[("NEW-1", "新处", "", "", "", "9" * 30)],
        users=[("big_order", "大排序", "", "GD-BGT-ZH", "", "", "", "", "", "²")],
    )

    result = spreadsheets.import_org(upload, actor=cast.system_admin, agency=cast.gov_office)

    assert not result.ok
    assert {("部门", 2, "排序"), ("用户", 2, "排序")} <= {(e.sheet, e.row, e.column) for e in result.errors}
    assert not Department.objects.filter(code="NEW-1").exists()


def test_file_that_is_not_xlsx_is_refused_before_reading(cast):
    with pytest.raises(spreadsheets.ImportRefused, match="Excel"):
        spreadsheets.import_org(io.BytesIO(b"name,mobile\n"), actor=cast.system_admin, agency=cast.gov_office)


def test_file_without_the_expected_sheets_is_refused(cast):
    workbook = Workbook()
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    with pytest.raises(spreadsheets.ImportRefused, match="工作表"):
        spreadsheets.import_org(buffer, actor=cast.system_admin, agency=cast.gov_office)


def test_missing_required_column_is_reported_on_the_header_row(cast):
    workbook = Workbook()
    workbook.active.title = "用户"
    workbook.active.append(["姓名", "部门代码"])
    workbook.active.append(["王五", "GD-BGT-ZH"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    result = spreadsheets.import_org(buffer, actor=cast.system_admin, agency=cast.gov_office)
    assert [(e.row, e.column) for e in result.errors] == [(1, "用户名")]


def test_agency_admin_cannot_import_into_another_agency(cast):
    from officeapp.org.services import grant_role

    grant_role(actor=None, user=cast.other_clerk, role=Role.AGENCY_ADMIN, agency=cast.finance)
    with pytest.raises(PermissionDenied):
        spreadsheets.import_org(xlsx(), actor=cast.other_clerk, agency=cast.gov_office)


def test_export_round_trips_through_the_import_layout(cast):
    content = spreadsheets.export_org(cast.gov_office, actor=cast.system_admin)

    departments, users, errors = spreadsheets.read_workbook(io.BytesIO(content))
    assert errors == []
    assert {row["code"] for _n, row in departments} == set(
        Department.objects.filter(agency=cast.gov_office).values_list("code", flat=True)
    )
    by_username = {row["username"]: row for _n, row in users}
    assert by_username["drafter"] == {
        "username": "drafter",
        "real_name": "林小梅",
        "employee_no": "BGT001",
        "department_code": "GD-BGT-ZH",
        "position": "科员",
        "mobile": "13800000001",
        "office_phone": "",
        "email": "drafter@gd.example",
        "roles": "拟稿人",
        "sort_order": "0",
    }
    # Administrator roles never leave in a file (and could not come back in one).
    assert by_username["system_admin"]["roles"] == ""
    assert "other_clerk" not in by_username

    # Imported again, the same file is refused row by row as already present, nothing else.
    result = spreadsheets.import_org(io.BytesIO(content), actor=cast.system_admin, agency=cast.gov_office)
    assert {e.message.split("“")[0] for e in result.errors} <= {
        "部门代码",
        "用户名",
        "工号",
        "本机关同一上级下已有部门",
    }


def test_exported_file_imports_cleanly_into_a_fresh_agency(cast):
    from officeapp.org.services import create_agency

    content = spreadsheets.export_org(cast.education, actor=cast.system_admin)
    workbook = load_workbook(io.BytesIO(content))
    for row in workbook["部门"].iter_rows(min_row=2):
        row[0].value = f"NEW-{row[0].value}"
    for row in workbook["用户"].iter_rows(min_row=2):
        row[0].value = f"new_{row[0].value}"
        row[2].value = f"N{row[2].value}"
        row[3].value = f"NEW-{row[3].value}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    fresh = create_agency(actor=None, name="测试厅", level="province", code="T")

    result = spreadsheets.import_org(buffer, actor=cast.system_admin, agency=fresh)

    assert result.ok, result.errors
    copy = User.objects.get(username="new_outsider")
    assert (copy.real_name, copy.mobile, copy.department.name) == ("赵文静", "13700000001", "高等教育处")


def test_template_has_both_sheets_and_the_documented_headers():
    workbook = load_workbook(io.BytesIO(spreadsheets.template_workbook()))
    assert [c.value for c in workbook["部门"][1]] == DEPT_HEADER
    assert [c.value for c in workbook["用户"][1]] == USER_HEADER
    assert "说明" in workbook.sheetnames


def test_import_of_2000_users_writes_in_bulk(cast, django_assert_max_num_queries):
    users = [
        (f"bulk{i}", f"批量{i}", f"B{i:05d}", "GD-BGT-ZH", "科员", f"139{i:08d}", "", "", "拟稿人", i)
        for i in range(2000)
    ]
    upload = xlsx(users=users)
    # Bounded by batches, not by rows (SQLite's parameter limit makes its batches smaller than PostgreSQL's;
    # row by row would be well over 6,000 queries).
    with django_assert_max_num_queries(150):
        result = spreadsheets.import_org(upload, actor=cast.system_admin, agency=cast.gov_office)
    assert result.ok and result.users == 2000
    assert RoleGrant.objects.filter(user__username__startswith="bulk", role=Role.DRAFTER).count() == 2000
