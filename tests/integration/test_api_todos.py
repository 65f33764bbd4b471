"""The to-do API (/api/v1/todos/): an app pushes, changes, completes, cancels and deletes its own
to-dos for its users; they show in the user's 待办 (and 已办) beside our own tasks, live."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from officeapp.integration.models import AppStatus
from officeapp.workbench.tiles import inbox_loader
from workflows.models_external import ExternalTodo

pytestmark = pytest.mark.django_db

URL = "/api/v1/todos/"
INBOX = "/workflows/inbox/"


@pytest.fixture
def app(cast: Any, make_app: Any) -> Any:
    return make_app(cast.gov_office, scopes=["todos.write"])


@pytest.fixture
def token(app: Any, token_for: Any) -> str:
    return token_for(app, scopes="todos.write")


def body(external_id: str = "XK-1", user: str = "drafter", **fields: Any) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "user": user,
        "title": fields.pop("title", "审核：高新技术企业认定申请"),
        "url": fields.pop("url", "https://app.example.test/approvals/1"),
        **fields,
    }


# --- push: create or update by the app's own id ---------------------------------------------------


def test_the_same_push_twice_makes_one_row_201_then_200(api: Any, token: str) -> None:
    first = api("POST", URL, token=token, json=body(urgency="urgent", deadline="2030-01-31"))
    second = api("POST", URL, token=token, json=body(urgency="urgent", deadline="2030-01-31"))

    assert first.status_code == 201 and second.status_code == 200
    assert ExternalTodo.objects.count() == 1
    data = second.json()
    assert data["external_id"] == "XK-1" and data["user"] == "drafter" and data["status"] == "open"
    assert data["urgency"] == "urgent" and data["deadline"].startswith("2030-01-31T23:59:59")


def test_a_push_with_new_content_updates_the_row(api: Any, token: str) -> None:
    api("POST", URL, token=token, json=body())
    response = api("POST", URL, token=token, json=body(title="新标题", deadline="2030-02-01T09:30:00+08:00"))

    assert response.status_code == 200
    todo = ExternalTodo.objects.get()
    assert todo.title == "新标题"
    assert timezone.localtime(todo.deadline).strftime("%Y-%m-%d %H:%M") == "2030-02-01 09:30"


def test_the_same_id_for_another_user_is_409(api: Any, token: str) -> None:
    api("POST", URL, token=token, json=body(user="drafter"))
    response = api("POST", URL, token=token, json=body(user="dept_head"))

    assert response.status_code == 409
    assert response.json()["error"] == {"code": "conflict", "message": "待办编号已用于其他用户。"}
    assert ExternalTodo.objects.get().user.username == "drafter"


def test_a_push_after_completion_does_not_reopen_it(api: Any, token: str) -> None:
    api("POST", URL, token=token, json=body())
    api("POST", f"{URL}XK-1/complete", token=token, json={})
    response = api("POST", URL, token=token, json=body(title="改过的标题"))

    assert response.status_code == 200 and response.json()["status"] == "done"


def test_two_apps_may_use_the_same_external_id(
    cast: Any, api: Any, token: str, make_app: Any, token_for: Any
) -> None:
    other = make_app(cast.gov_office, name="内务审批系统", scopes=["todos.write"])
    api("POST", URL, token=token, json=body())
    response = api("POST", URL, token=token_for(other, scopes="todos.write"), json=body(user="dept_head"))

    assert response.status_code == 201
    assert ExternalTodo.objects.count() == 2


# --- users the app may address --------------------------------------------------------------------


def test_a_user_outside_the_apps_agencies_and_an_unknown_one_are_404(api: Any, token: str) -> None:
    outside = api("POST", URL, token=token, json=body(user="other_clerk"))
    unknown = api("POST", URL, token=token, json=body(user="nobody"))

    for response in (outside, unknown):
        assert response.status_code == 404
        assert response.json()["error"]["message"] == "用户不存在或不在本应用的范围内。"
    assert not ExternalTodo.objects.exists()


def test_data_agencies_replace_the_owner_agency_as_the_apps_scope(
    cast: Any, api: Any, make_app: Any, token_for: Any
) -> None:
    app = make_app(cast.gov_office, scopes=["todos.write"], data_agencies=[cast.finance])
    token = token_for(app, scopes="todos.write")

    assert api("POST", URL, token=token, json=body(user="other_clerk")).status_code == 201
    assert api("POST", URL, token=token, json=body("XK-2", user="drafter")).status_code == 404


def test_a_disabled_user_is_refused(cast: Any, api: Any, token: str) -> None:
    cast.drafter.is_active = False
    cast.drafter.save()

    response = api("POST", URL, token=token, json=body())

    assert response.status_code == 400
    assert response.json()["error"] == {"code": "user_disabled", "message": "用户已停用。"}


# --- tokens and scopes ----------------------------------------------------------------------------


def test_without_a_token_401(api: Any) -> None:
    response = api("POST", URL, json=body())
    assert response.status_code == 401 and response.json()["error"]["message"].startswith("缺少访问令牌")


def test_a_token_without_todos_write_is_403_with_the_scopes_label(app: Any, api: Any, token_for: Any) -> None:
    response = api("GET", URL, token=token_for(app, scopes="directory.read"))
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "访问令牌未获授权：推送待办。"


def test_a_scope_the_app_no_longer_holds_is_403(app: Any, api: Any, token: str) -> None:
    app.scopes = []
    app.save()
    assert api("POST", URL, token=token, json=body()).status_code == 403


def test_a_user_token_is_403_with_a_clear_message(cast: Any, app: Any, api: Any, token_for: Any) -> None:
    user_token = token_for(app, user=cast.drafter, scopes="openid todos.write")

    for method, path in (("POST", URL), ("GET", URL), ("POST", f"{URL}bulk"), ("GET", f"{URL}XK-1/")):
        response = api(method, path, token=user_token, json=body() if method == "POST" else None)
        assert response.status_code == 403
        assert "只接受应用自身的令牌" in response.json()["error"]["message"]
    assert not ExternalTodo.objects.exists()


# --- invalid bodies -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"title": ""}, "title", "必填。"),
        ({"title": "长" * 201}, "title", "标题最多 200 个字。"),
        ({"url": "javascript:alert(1)"}, "url", "请填写以"),
        ({"url": "/relative/path"}, "url", "请填写以"),
        ({"urgency": "asap"}, "urgency", "紧急程度只能是"),
        ({"deadline": "next friday"}, "deadline", "ISO 8601"),
        ({"external_id": ""}, "external_id", "必填。"),
        ({"external_id": "x" * 129}, "external_id", "最多 128 个字符"),
        ({"external_id": "a/b"}, "external_id", "不能含有"),
        ({"user": ""}, "user", "用户名"),
        ({"colour": "red"}, "colour", "未知字段。"),
        ({"title": "a\x00b"}, "title", "控制字符"),
        ({"external_id": "x\x00"}, "external_id", "控制字符"),
    ],
)
def test_an_invalid_field_is_400_naming_the_field_in_chinese(
    api: Any, token: str, fields: dict[str, Any], field: str, message: str
) -> None:
    response = api(
        "POST", URL, token=token, json=body(**fields) if "external_id" not in fields else {**body(), **fields}
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and error["message"] == "请求内容无效。"
    assert message in error["fields"][field][0]


def test_a_body_that_is_not_an_object_is_400(api: Any, token: str) -> None:
    response = api("POST", URL, token=token, json=["not", "an", "object"])
    assert response.status_code == 400


# --- one to-do: read, change, complete, cancel, delete --------------------------------------------


def test_get_patch_complete_cancel_and_delete(api: Any, token: str) -> None:
    api("POST", URL, token=token, json=body())
    item = f"{URL}XK-1/"

    assert api("GET", item, token=token).json()["title"] == "审核：高新技术企业认定申请"
    patched = api(
        "PATCH", item, token=token, json={"title": "已补正", "urgency": "extra_urgent", "deadline": None}
    )
    assert patched.status_code == 200
    assert (patched.json()["title"], patched.json()["urgency"], patched.json()["deadline"]) == (
        "已补正",
        "extra_urgent",
        None,
    )
    done = api("POST", f"{item}complete", token=token, json={})
    assert done.status_code == 200 and done.json()["status"] == "done" and done.json()["completed_at"]
    # Completing again is harmless; cancelling a completed one is a conflict.
    assert api("POST", f"{item}complete", token=token, json={}).status_code == 200
    refused = api("POST", f"{item}cancel", token=token, json={})
    assert refused.status_code == 409 and refused.json()["error"]["message"] == "待办已办结，不能撤销。"

    assert api("DELETE", item, token=token).status_code == 204
    assert api("GET", item, token=token).status_code == 404


def test_a_cancelled_to_do_cannot_be_completed(api: Any, token: str) -> None:
    api("POST", URL, token=token, json=body())
    assert api("POST", f"{URL}XK-1/cancel", token=token, json={}).json()["status"] == "cancelled"
    refused = api("POST", f"{URL}XK-1/complete", token=token, json={})
    assert refused.status_code == 409 and refused.json()["error"]["message"] == "待办已撤销，不能办结。"


def test_patch_refuses_a_new_user_and_unknown_fields(api: Any, token: str) -> None:
    api("POST", URL, token=token, json=body())
    response = api("PATCH", f"{URL}XK-1/", token=token, json={"user": "dept_head", "colour": "red"})

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert "撤销后" in fields["user"][0] and fields["colour"] == ["未知字段。"]


def test_another_apps_to_do_is_404_like_a_missing_one(
    cast: Any, api: Any, token: str, make_app: Any, token_for: Any
) -> None:
    api("POST", URL, token=token, json=body())
    other_token = token_for(
        make_app(cast.gov_office, name="内务审批系统", scopes=["todos.write"]), scopes="todos.write"
    )

    for method in ("GET", "PATCH", "DELETE"):
        response = api(
            method, f"{URL}XK-1/", token=other_token, json={"title": "x"} if method == "PATCH" else None
        )
        assert response.status_code == 404
        assert response.json()["error"] == {"code": "not_found", "message": "对象不存在或无权访问。"}
    assert api("POST", f"{URL}XK-1/complete", token=other_token, json={}).status_code == 404
    assert api("POST", f"{URL}missing/cancel", token=token, json={}).status_code == 404
    assert ExternalTodo.objects.get().is_open


def test_the_list_is_the_apps_own_filtered_by_status_and_user(
    cast: Any, api: Any, token: str, make_app: Any, token_for: Any
) -> None:
    for n, user in enumerate(["drafter", "drafter", "dept_head"]):
        api("POST", URL, token=token, json=body(f"XK-{n}", user=user))
    api("POST", f"{URL}XK-0/complete", token=token, json={})
    other = make_app(cast.gov_office, name="内务审批系统", scopes=["todos.write"])
    api("POST", URL, token=token_for(other, scopes="todos.write"), json=body("NW-1"))

    everything = api("GET", URL, token=token).json()["results"]
    open_of_drafter = api("GET", f"{URL}?status=open&user=drafter", token=token)
    bad = api("GET", f"{URL}?status=whatever", token=token)

    assert [t["external_id"] for t in everything] == ["XK-2", "XK-1", "XK-0"]
    assert [t["external_id"] for t in open_of_drafter.json()["results"]] == ["XK-1"]
    assert bad.status_code == 400 and "状态只能是" in bad.json()["error"]["fields"]["status"][0]


# --- bulk -----------------------------------------------------------------------------------------


def test_bulk_writes_the_valid_items_and_explains_each_failure(cast: Any, api: Any, token: str) -> None:
    api("POST", URL, token=token, json=body("taken", user="dept_head"))
    cast.clerk.is_active = False
    cast.clerk.save()
    items = [
        body("ok-1"),
        body("ok-2", user="dept_head", urgency="urgent"),
        body("bad-url", url="ftp://x"),
        body("outside", user="other_clerk"),
        body("disabled", user="clerk"),
        body("taken", user="drafter"),
        body("ok-1", title="同一请求中的重复"),
        "not an object",
    ]

    response = api("POST", f"{URL}bulk", token=token, json={"items": items})

    assert response.status_code == 200
    data = response.json()
    assert (data["created"], data["updated"], data["unchanged"], data["failed"]) == (2, 0, 0, 6)
    outcomes = [(r["index"], r["status"], r.get("error", {}).get("message")) for r in data["results"]]
    assert outcomes == [
        (0, "created", None),
        (1, "created", None),
        (2, "error", "内容无效。"),
        (3, "error", "用户不存在或不在本应用的范围内。"),
        (4, "error", "用户已停用。"),
        (5, "error", "待办编号已用于其他用户。"),
        (6, "error", "同一请求中待办编号重复。"),
        (7, "error", "内容无效。"),
    ]
    assert "url" in data["results"][2]["error"]["fields"]
    assert set(ExternalTodo.objects.values_list("external_id", flat=True)) == {"taken", "ok-1", "ok-2"}


def test_bulk_is_idempotent_and_reports_updates_and_unchanged(api: Any, token: str) -> None:
    items = [body(f"B-{n}") for n in range(5)]
    api("POST", f"{URL}bulk", token=token, json={"items": items})
    items[0]["title"] = "改了"

    data = api("POST", f"{URL}bulk", token=token, json={"items": items}).json()

    assert (data["created"], data["updated"], data["unchanged"]) == (0, 1, 4)
    assert ExternalTodo.objects.count() == 5
    assert ExternalTodo.objects.get(external_id="B-0").title == "改了"


def test_bulk_of_a_thousand_items_is_a_handful_of_statements(api: Any, token: str) -> None:
    items = [body(f"T-{n}", user="drafter" if n % 2 else "dept_head") for n in range(1000)]

    with CaptureQueriesContext(connection) as queries:
        response = api("POST", f"{URL}bulk", token=token, json={"items": items})

    assert response.json()["created"] == 1000
    inserts = [
        q for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "workflows_externaltodo"')
    ]
    # One statement per 1,000 rows on PostgreSQL; SQLite's 999-variable limit allows ~90 rows each.
    assert len(inserts) <= (1 if connection.vendor == "postgresql" else 12)
    assert len(queries.captured_queries) < len(inserts) + 20


@override_settings(API_BULK_MAX_ITEMS=3)
def test_bulk_over_the_limit_is_413_and_writes_nothing(api: Any, token: str) -> None:
    response = api("POST", f"{URL}bulk", token=token, json={"items": [body(f"B-{n}") for n in range(4)]})

    assert response.status_code == 413
    assert response.json()["error"] == {"code": "too_many", "message": "单次最多 3 条。"}
    assert not ExternalTodo.objects.exists()


def test_bulk_without_an_items_list_is_400(api: Any, token: str) -> None:
    response = api("POST", f"{URL}bulk", token=token, json={"things": []})
    assert response.status_code == 400 and response.json()["error"]["fields"]["items"]


# --- the inbox ------------------------------------------------------------------------------------


def test_the_inbox_page_lists_the_users_external_to_dos_with_app_urgency_deadline_and_a_new_tab_link(
    cast: Any, api: Any, token: str, sign_in: Any
) -> None:
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    api("POST", URL, token=token, json=body(urgency="extra_urgent", deadline=tomorrow))
    api("POST", URL, token=token, json=body("XK-2", user="dept_head", title="别人的待办"))

    html = sign_in(cast.drafter).get(INBOX).content.decode()

    assert "业务系统待办" in html and "审核：高新技术企业认定申请" in html
    assert f"行政审批系统 · 特急 · 期限 {tomorrow} 23:59" in html
    assert 'href="https://app.example.test/approvals/1" target="_blank" rel="noopener noreferrer"' in html
    assert "别人的待办" not in html


def test_overdue_external_to_dos_say_so(cast: Any, api: Any, token: str, sign_in: Any) -> None:
    api("POST", URL, token=token, json=body(deadline="2020-01-01"))
    html = sign_in(cast.drafter).get(INBOX).content.decode()
    assert "期限 2020-01-01 23:59 · 超期" in html


def test_a_completed_to_do_moves_to_done_and_a_cancelled_one_is_gone(
    cast: Any, api: Any, token: str, sign_in: Any
) -> None:
    api("POST", URL, token=token, json=body("A", title="办结的那件"))
    api("POST", URL, token=token, json=body("B", title="撤销的那件"))
    api("POST", f"{URL}A/complete", token=token, json={})
    api("POST", f"{URL}B/cancel", token=token, json={})
    client = sign_in(cast.drafter)

    todo_html = client.get(INBOX).content.decode()
    done_html = client.get(INBOX, {"tab": "done"}).content.decode()

    assert "办结的那件" not in todo_html and "撤销的那件" not in todo_html
    assert "办结的那件" in done_html and "撤销的那件" not in done_html


def test_a_suspended_apps_to_dos_are_hidden_until_it_is_active_again(
    cast: Any, app: Any, api: Any, token: str, sign_in: Any
) -> None:
    api("POST", URL, token=token, json=body())
    app.status = AppStatus.SUSPENDED
    app.save()
    client = sign_in(cast.drafter)

    assert "审核：高新技术企业认定申请" not in client.get(INBOX).content.decode()
    assert inbox_loader("to_do")(cast.drafter, 5)[0] == 0

    app.status = AppStatus.ACTIVE
    app.save()
    assert "审核：高新技术企业认定申请" in client.get(INBOX).content.decode()


def test_the_workbench_todo_tile_counts_and_lists_them_in_one_query_per_source(
    cast: Any, api: Any, token: str
) -> None:
    api(
        "POST",
        f"{URL}bulk",
        token=token,
        json={"items": [body(f"W-{n}", title=f"外部{n}") for n in range(7)]},
    )

    with CaptureQueriesContext(connection) as queries:
        count, items = inbox_loader("to_do")(cast.drafter, 5)

    assert count == 7 and [i.title for i in items] == ["外部6", "外部5", "外部4", "外部3", "外部2"]
    assert items[0].meta == "行政审批系统" and items[0].new_tab
    # One query for our tasks, one for external to-dos, whatever the numbers.
    assert len(queries.captured_queries) == 2


def test_the_live_list_refresh_carries_the_external_section(
    cast: Any, api: Any, token: str, sign_in: Any
) -> None:
    api("POST", URL, token=token, json=body())
    html = sign_in(cast.drafter).get(INBOX, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in html and "审核：高新技术企业认定申请" in html and "data-inbox-list" in html


# --- live push ------------------------------------------------------------------------------------


def _frames(sent: list[Any]) -> list[tuple[str, str]]:
    return sorted((group, f["frame"]["action"]) for group, f in sent if f["frame"]["type"] == "inbox.changed")


def test_each_affected_user_gets_one_push_per_request_after_commit(
    cast: Any, api: Any, token: str, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    sent: list[Any] = []
    monkeypatch.setattr("workflows.live.send_to_groups", sent.extend)
    items = [body(f"L-{n}", user="drafter" if n % 3 else "dept_head") for n in range(30)]

    with django_capture_on_commit_callbacks(execute=True):
        api("POST", f"{URL}bulk", token=token, json={"items": items})
    assert _frames(sent) == sorted(
        [(f"user.{cast.drafter.pk}", "changed"), (f"user.{cast.dept_head.pk}", "changed")]
    )

    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        api("POST", f"{URL}bulk", token=token, json={"items": items})
    assert sent == []  # nothing changed: nobody is told anything

    with django_capture_on_commit_callbacks(execute=True):
        api("POST", f"{URL}L-1/complete", token=token, json={})
    assert _frames(sent) == [(f"user.{cast.drafter.pk}", "closed")]


def test_a_refused_push_tells_nobody(
    api: Any, token: str, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    sent: list[Any] = []
    monkeypatch.setattr("workflows.live.send_to_groups", sent.extend)
    with django_capture_on_commit_callbacks(execute=True):
        api("POST", URL, token=token, json=body(user="other_clerk"))
    assert sent == []


def test_the_schema_describes_the_todo_endpoints(client: Any) -> None:
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    for path in (
        "/api/v1/todos/",
        "/api/v1/todos/bulk",
        "/api/v1/todos/{external_id}/",
        "/api/v1/todos/{external_id}/complete",
        "/api/v1/todos/{external_id}/cancel",
    ):
        assert path in paths
    assert "有效的照常写入" in paths["/api/v1/todos/bulk"]["post"]["description"]


# --- demo -----------------------------------------------------------------------------------------


def test_the_demo_pushes_the_demo_apps_to_dos_and_says_when_an_app_is_missing(
    cast: Any, make_app: Any
) -> None:
    from workflows.demo_external import build_external_todos_demo

    assert "不存在" in build_external_todos_demo() and not ExternalTodo.objects.exists()

    for user, name in ((cast.drafter, "lin.xiaomei"), (cast.dept_head, "chen.zhiqiang")):
        user.username = name
        user.save()
    make_app(cast.gov_office, name="行政审批系统")

    line = build_external_todos_demo()

    # Two demo accounts exist in the app's agency; the other two to-dos go to the app's own people.
    assert line == "外部待办：演示应用推送 4 条待办（财务报销系统 不存在，未推送其待办）。"
    owners = {t.external_id: t.user for t in ExternalTodo.objects.select_related("user__department")}
    assert (
        owners["XK-2026-0412"].username == "lin.xiaomei"
        and owners["XK-2026-0419"].username == "chen.zhiqiang"
    )
    assert {u.department.agency_id for u in owners.values()} == {cast.gov_office.pk}
    assert all(t.url.startswith("https://app.example.test/approvals/") for t in ExternalTodo.objects.all())
