"""The notification API (/api/v1/notifications/): an app sends its users notices that land in the
bell (officeapp.notify), live, under the same user rules as the to-do API."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test.utils import override_settings

from officeapp.notify.models import Notification

pytestmark = pytest.mark.django_db

URL = "/api/v1/notifications/"


@pytest.fixture
def app(cast: Any, make_app: Any) -> Any:
    return make_app(cast.gov_office, scopes=["notifications.write"])


@pytest.fixture
def token(app: Any, token_for: Any) -> str:
    return token_for(app, scopes="notifications.write")


def notice(users: list[str] | None = None, **fields: Any) -> dict[str, Any]:
    return {"users": users or ["drafter"], "title": fields.pop("title", "您的报销单已退回"), **fields}


def test_a_notice_reaches_each_users_bell_and_links_to_the_apps_page_through_a_signed_redirect(
    cast: Any, api: Any, token: str, sign_in: Any
) -> None:
    response = api(
        "POST",
        URL,
        token=token,
        json=notice(
            ["drafter", "dept_head"],
            body="请补充发票后重新提交。",
            url="https://app.example.test/claims/7",
            urgency="extra_urgent",
        ),
    )

    assert response.status_code == 201 and response.json() == {"sent": 2}
    rows = list(Notification.objects.order_by("recipient_id"))
    assert {r.recipient_id for r in rows} == {cast.drafter.pk, cast.dept_head.pk}
    row = rows[0]
    assert (row.title, row.body, row.urgency) == ("您的报销单已退回", "请补充发票后重新提交。", "urgent")
    assert row.url.startswith("/api/v1/notifications/open/")
    followed = sign_in(cast.drafter).get(row.url)
    assert followed.status_code == 302 and followed["Location"] == "https://app.example.test/claims/7"


def test_a_forged_or_altered_link_is_404(cast: Any, api: Any, token: str, sign_in: Any) -> None:
    api("POST", URL, token=token, json=notice(url="https://app.example.test/claims/7"))
    path = Notification.objects.get().url
    altered = path[:-3] + ("abc" if not path.endswith("abc") else "xyz")

    client = sign_in(cast.drafter)
    assert client.get(altered).status_code == 404
    assert client.get("/api/v1/notifications/open/https:--evil.example").status_code == 404


def test_a_notice_is_pushed_to_the_bell_after_commit(
    cast: Any, api: Any, token: str, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    sent: list[Any] = []
    monkeypatch.setattr("officeapp.notify.services.send_to_groups", sent.extend)

    with django_capture_on_commit_callbacks(execute=True):
        api("POST", URL, token=token, json=notice(["drafter", "dept_head"]))

    frames = sorted((group, frame["type"], frame["title"]) for group, frame in sent)
    assert frames == sorted(
        [
            (f"user.{cast.drafter.pk}", "notification", "您的报销单已退回"),
            (f"user.{cast.dept_head.pk}", "notification", "您的报销单已退回"),
        ]
    )


def test_one_unknown_or_outside_user_refuses_the_whole_notice(api: Any, token: str) -> None:
    response = api("POST", URL, token=token, json=notice(["drafter", "other_clerk", "nobody"]))

    assert response.status_code == 404
    error = response.json()["error"]
    assert error["message"] == "用户不存在或不在本应用的范围内。"
    assert [f["user"] for f in error["fields"]["users"]] == ["other_clerk", "nobody"]
    assert not Notification.objects.exists()


def test_a_disabled_user_is_refused(cast: Any, api: Any, token: str) -> None:
    cast.drafter.is_active = False
    cast.drafter.save()

    response = api("POST", URL, token=token, json=notice())

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "用户已停用。"
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": ""}, "title"),
        ({"body": "长" * 501}, "body"),
        ({"url": "/a/path/on/our/site"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"urgency": "now"}, "urgency"),
        ({"users": []}, "users"),
        ({"users": "drafter"}, "users"),
        ({"kind": "x"}, "kind"),
    ],
)
def test_an_invalid_field_is_400_naming_it(api: Any, token: str, fields: dict[str, Any], field: str) -> None:
    response = api("POST", URL, token=token, json={**notice(), **fields})

    assert response.status_code == 400
    assert response.json()["error"]["fields"][field]
    assert not Notification.objects.exists()


def test_tokens_scopes_and_user_tokens(cast: Any, app: Any, api: Any, token_for: Any) -> None:
    assert api("POST", URL, json=notice()).status_code == 401
    wrong_scope = api("POST", URL, token=token_for(app, scopes="todos.write"), json=notice())
    assert wrong_scope.status_code == 403
    assert wrong_scope.json()["error"]["message"] == "访问令牌未获授权：发送通知。"
    user_token = token_for(app, user=cast.drafter, scopes="openid notifications.write")
    as_user = api("POST", URL, token=user_token, json=notice())
    assert as_user.status_code == 403 and "只接受应用自身的令牌" in as_user.json()["error"]["message"]
    assert not Notification.objects.exists()


def test_bulk_sends_the_valid_items_and_lists_what_failed(cast: Any, api: Any, token: str) -> None:
    cast.clerk.is_active = False
    cast.clerk.save()
    items = [
        notice(["drafter"], title="一"),
        notice(["dept_head", "other_clerk", "clerk"], title="二"),
        notice(["drafter"], title=""),
    ]

    response = api("POST", f"{URL}bulk", token=token, json={"items": items})

    assert response.status_code == 200
    data = response.json()
    assert data["sent"] == 2
    assert data["results"][0] == {"index": 0, "sent": 1}
    assert data["results"][1]["sent"] == 1
    assert [(f["user"], f["message"]) for f in data["results"][1]["failed_users"]] == [
        ("other_clerk", "用户不存在或不在本应用的范围内。"),
        ("clerk", "用户已停用。"),
    ]
    assert data["results"][2]["sent"] == 0 and "title" in data["results"][2]["error"]["fields"]
    assert sorted(Notification.objects.values_list("title", flat=True)) == ["一", "二"]


@override_settings(API_BULK_MAX_ITEMS=3)
def test_bulk_over_the_limit_is_413(api: Any, token: str) -> None:
    too_many = {"items": [notice(["drafter", "dept_head"]), notice(["drafter", "leader"])]}

    response = api("POST", f"{URL}bulk", token=token, json=too_many)

    assert response.status_code == 413
    assert response.json()["error"]["message"] == "单次最多 3 条。"
    assert not Notification.objects.exists()


def test_the_link_path_fits_the_notifications_url_column(api: Any, token: str) -> None:
    long_url = "https://app.example.test/" + "a" * 270
    assert api("POST", URL, token=token, json=notice(url=long_url)).status_code == 201
    path = Notification.objects.get().url
    assert len(path) <= 500 and urlsplit(path).path == path


def test_a_link_too_long_once_signed_is_refused(api: Any, token: str) -> None:
    response = api(
        "POST",
        URL,
        token=token,
        json=notice(url="https://app.example.test/" + "".join(chr(0x4E00 + 7 * i) for i in range(250))),
    )
    assert response.status_code == 400 and response.json()["error"]["fields"]["url"] == ["链接过长。"]
