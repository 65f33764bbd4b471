"""The 督办 API (/api/v1/supervision/): a user token sees what the 督办 pages show that user, an
app's own token the items where one of its data agencies is a unit or the supervising agency; the
same 404 for missing and not visible; filters, cursor pages and a query count that does not grow
with the page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.workflows.test_supervision_flow import fresh, new_item, to_handle, today
from workflows.models import Light, SupervisionItem
from workflows.supervision import sign_off_report, write_report

pytestmark = pytest.mark.django_db

SCOPE = "supervision.read"
ITEMS = "/api/v1/supervision/items/"


@pytest.fixture
def supervision(cast: Any) -> Any:
    from tests.workflows.conftest import build_flow_cast
    from tests.workflows.incoming_cast import build_receiving_cast
    from tests.workflows.supervision_cast import build_supervision_cast

    return build_supervision_cast(build_receiving_cast(build_flow_cast(cast)))


def _ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def _finance_item(s: Any) -> SupervisionItem:
    """An item of 省府办公厅 led by 省财政厅 (another agency as unit)."""
    return new_item(s, title="压减一般性支出", lead_unit=s.cast.finance, co_units=[])


# --- who sees which items -------------------------------------------------------------------------


def test_a_user_token_lists_the_items_the_pages_show_that_user(
    supervision: Any, make_app: Any, token_for: Any, api: Any
) -> None:
    s = supervision
    item = new_item(s)
    app = make_app(s.cast.gov_office, scopes=[SCOPE])

    seen = _ids(api("GET", ITEMS, token=token_for(app, user=s.supervisor, scopes=SCOPE)))
    unseen = _ids(api("GET", ITEMS, token=token_for(app, user=s.cast.outsider, scopes=SCOPE)))

    assert seen == [item.pk]
    assert unseen == []


def test_an_item_the_user_may_not_see_is_the_same_404_as_a_missing_one(
    supervision: Any, make_app: Any, token_for: Any, api: Any
) -> None:
    s = supervision
    item = new_item(s)
    app = make_app(s.cast.gov_office, scopes=[SCOPE])
    token = token_for(app, user=s.cast.outsider, scopes=SCOPE)

    hidden = api("GET", f"{ITEMS}{item.pk}/", token=token)
    hidden_reports = api("GET", f"{ITEMS}{item.pk}/reports/", token=token)
    missing = api("GET", f"{ITEMS}{item.pk + 1000}/", token=token)

    for response in (hidden, hidden_reports, missing):
        assert response.status_code == 404
        assert response.json() == {"error": {"code": "not_found", "message": "对象不存在或无权访问。"}}


def test_the_item_detail_carries_the_facts_of_the_item(
    supervision: Any, make_app: Any, token_for: Any, api: Any
) -> None:
    s = supervision
    item = new_item(s)
    to_handle(s, item)
    app = make_app(s.cast.gov_office, scopes=[SCOPE])

    body = api("GET", f"{ITEMS}{item.pk}/", token=token_for(app, user=s.dept_head, scopes=SCOPE)).json()

    item = fresh(item)
    assert body["number"] == item.number != ""
    assert body["title"] == "推进政务服务一网通办"
    assert body["source"] == "instruction" and body["source_label"] == "领导批示"
    assert body["requirement"] == "每月报送进展"
    assert body["supervising_agency"] == {
        "kind": "agency",
        "id": s.cast.gov_office.pk,
        "name": "广东省人民政府办公厅",
    }
    assert body["lead_unit"] == {"kind": "department", "id": s.cast.general_dept.pk, "name": "综合处"}
    assert body["co_units"] == [{"kind": "department", "id": s.cast.secretariat.pk, "name": "秘书处"}]
    assert body["due_on"] == (today() + timedelta(days=30)).isoformat()
    assert body["light"] == item.light and body["state"] == "handle" and body["state_label"] == "承办"
    assert body["supervisor"] == {"id": s.supervisor.pk, "name": s.supervisor.real_name}
    assert body["report_frequency"] == "monthly"


def test_an_apps_own_token_sees_items_where_its_agency_is_a_unit_or_supervises(
    supervision: Any, make_app: Any, token_for: Any, api: Any
) -> None:
    s = supervision
    departments_item = new_item(s)  # 省府办公厅 supervises, its 综合处 leads
    finance_item = _finance_item(s)  # 省府办公厅 supervises, 省财政厅 leads
    office_app = make_app(s.cast.gov_office, scopes=[SCOPE])
    finance_app = make_app(s.cast.finance, name="财务系统", scopes=[SCOPE])
    education_app = make_app(s.cast.education, name="教育系统", scopes=[SCOPE])
    # An app of 教育厅 that reads 省财政厅's data (data_agencies instead of the owner).
    on_behalf = make_app(s.cast.education, name="共享平台", scopes=[SCOPE], data_agencies=[s.cast.finance])

    def listed(app: Any) -> set[int]:
        return set(_ids(api("GET", ITEMS, token=token_for(app, scopes=SCOPE))))

    assert listed(office_app) == {departments_item.pk, finance_item.pk}
    assert listed(finance_app) == {finance_item.pk}
    assert listed(education_app) == set()
    assert listed(on_behalf) == {finance_item.pk}
    token = token_for(education_app, scopes=SCOPE)
    assert api("GET", f"{ITEMS}{finance_item.pk}/", token=token).status_code == 404
    assert api("GET", f"{ITEMS}{finance_item.pk}/reports/", token=token).status_code == 404
    finance_token = token_for(finance_app, scopes=SCOPE)
    assert api("GET", f"{ITEMS}{finance_item.pk}/", token=finance_token).json()["id"] == finance_item.pk


def test_an_app_agency_that_only_helps_as_co_unit_sees_the_item(
    supervision: Any, make_app: Any, token_for: Any, api: Any
) -> None:
    s = supervision
    # Led by 省财政厅, helped by 省教育厅 (a unit's department is always one of the supervising
    # agency's own: another agency is chosen whole).
    item = new_item(s, lead_unit=s.cast.finance, co_units=[s.cast.education])
    education_app = make_app(s.cast.education, name="教育系统", scopes=[SCOPE])

    assert _ids(api("GET", ITEMS, token=token_for(education_app, scopes=SCOPE))) == [item.pk]


# --- tokens and scopes ------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "{id}/", "{id}/reports/"])
def test_every_endpoint_wants_a_token_and_the_supervision_scope(
    supervision: Any, make_app: Any, token_for: Any, api: Any, suffix: str
) -> None:
    s = supervision
    item = new_item(s)
    app = make_app(s.cast.gov_office, scopes=[SCOPE, "directory.read"])
    url = ITEMS + suffix.format(id=item.pk)

    no_token = api("GET", url)
    wrong_scope = api("GET", url, token=token_for(app, scopes="directory.read"))
    user_wrong_scope = api("GET", url, token=token_for(app, user=s.supervisor, scopes="openid"))
    allowed = api("GET", url, token=token_for(app, scopes=SCOPE))

    assert no_token.status_code == 401
    assert wrong_scope.status_code == 403 and user_wrong_scope.status_code == 403
    assert wrong_scope.json()["error"]["message"] == "访问令牌未获授权：读取督办事项及进展。"
    assert allowed.status_code == 200


# --- reports ----------------------------------------------------------------------------------------


def _reported_item(s: Any) -> tuple[SupervisionItem, Any, Any]:
    """An item in 承办 with a signed-off report (with an attachment) and a draft."""
    item = new_item(s)
    to_handle(s, item)
    upload = SimpleUploadedFile(
        "进展.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "application/pdf"
    )
    signed = write_report(item, actor=s.general_staff, text="已完成方案起草", percentage=40, files=[upload])
    sign_off_report(signed, actor=s.dept_head)
    draft = write_report(item, actor=s.general_staff, text="正在征求意见", percentage=60)
    return item, signed, draft


def test_a_user_sees_every_report_the_item_page_shows_with_attachment_names_and_page_links(
    supervision: Any, make_app: Any, token_for: Any, api: Any
) -> None:
    s = supervision
    item, signed, draft = _reported_item(s)
    app = make_app(s.cast.gov_office, scopes=[SCOPE])

    response = api("GET", f"{ITEMS}{item.pk}/reports/", token=token_for(app, user=s.supervisor, scopes=SCOPE))

    rows = response.json()["results"]
    assert [r["id"] for r in rows] == [draft.pk, signed.pk]
    first = rows[1]
    assert first["unit"] == {"kind": "department", "id": s.cast.general_dept.pk, "name": "综合处"}
    assert first["percentage"] == 40 and first["text"] == "已完成方案起草"
    assert first["state"] == "submitted" and first["signed_off_by"]["id"] == s.dept_head.pk
    [attachment] = first["attachments"]
    assert attachment["filename"] == "进展.pdf"
    # The page's own download view, which checks the signed-in user again.
    blob_id = signed.attachments.get().blob_id
    assert attachment["page_url"] == reverse("blobs:download", args=[blob_id, "进展.pdf"])


def test_an_apps_own_token_sees_signed_off_reports_only_and_no_download_links(
    supervision: Any, make_app: Any, token_for: Any, api: Any
) -> None:
    s = supervision
    item, signed, _draft = _reported_item(s)
    app = make_app(s.cast.gov_office, scopes=[SCOPE])

    rows = api("GET", f"{ITEMS}{item.pk}/reports/", token=token_for(app, scopes=SCOPE)).json()["results"]

    assert [r["id"] for r in rows] == [signed.pk]
    assert rows[0]["attachments"][0]["filename"] == "进展.pdf"
    assert rows[0]["attachments"][0]["page_url"] is None


# --- filters and pages ------------------------------------------------------------------------------


def test_filters_narrow_the_list(supervision: Any, make_app: Any, token_for: Any, api: Any) -> None:
    s = supervision
    near = new_item(s, title="近期事项", due_on=today() + timedelta(days=5))
    far = _finance_item(s)  # due in 30 days, led by 省财政厅
    SupervisionItem.objects.filter(pk=near.pk).update(light=Light.RED)
    app = make_app(s.cast.gov_office, scopes=[SCOPE])
    token = token_for(app, scopes=SCOPE)

    def listed(query: str) -> set[int]:
        return set(_ids(api("GET", f"{ITEMS}?{query}", token=token)))

    assert listed("light=red") == {near.pk}
    assert listed("light=green") == {far.pk}
    assert listed(f"due_before={(today() + timedelta(days=10)).isoformat()}") == {near.pk}
    assert listed(f"due_after={(today() + timedelta(days=10)).isoformat()}") == {far.pk}
    assert listed(f"lead_agency={s.cast.finance.pk}") == {far.pk}
    assert listed(f"lead_department={s.cast.general_dept.pk}") == {near.pk}
    assert listed(f"unit_agency={s.cast.finance.pk}") == {far.pk}
    assert listed("source=instruction&state=register") == {near.pk, far.pk}
    assert listed("state=handle") == set()
    later = fresh(far).updated_at + timedelta(seconds=1)
    SupervisionItem.objects.filter(pk=near.pk).update(updated_at=later + timedelta(minutes=1))
    assert listed("updated_since=" + later.isoformat().replace("+", "%2B")) == {near.pk}


@pytest.mark.parametrize(
    ("query", "field"),
    [("light=purple", "light"), ("due_before=tomorrow", "due_before"), ("lead_agency=x", "lead_agency")],
)
def test_a_bad_filter_is_a_400_naming_the_parameter(
    supervision: Any, make_app: Any, token_for: Any, api: Any, query: str, field: str
) -> None:
    app = make_app(supervision.cast.gov_office, scopes=[SCOPE])

    response = api("GET", f"{ITEMS}?{query}", token=token_for(app, scopes=SCOPE))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert field in response.json()["error"]["fields"]


def test_cursor_pages_walk_every_item_once(supervision: Any, make_app: Any, token_for: Any, api: Any) -> None:
    s = supervision
    items = [new_item(s, title=f"事项{i}") for i in range(5)]
    app = make_app(s.cast.gov_office, scopes=[SCOPE])
    token = token_for(app, scopes=SCOPE)

    seen: list[int] = []
    url: str | None = f"{ITEMS}?page_size=2"
    while url:
        body = api("GET", url, token=token).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]

    assert seen == sorted((i.pk for i in items), reverse=True)


def test_a_page_costs_the_same_queries_at_two_sizes(
    supervision: Any, make_app: Any, token_for: Any, api: Any, django_assert_num_queries: Any
) -> None:
    s = supervision
    item, _signed, _draft = _reported_item(s)
    app = make_app(s.cast.gov_office, scopes=[SCOPE])
    token = token_for(app, user=s.supervisor, scopes=SCOPE)
    api("GET", ITEMS, token=token)  # warm the caches (grants, policies) out of the count
    with CaptureQueriesContext(connection) as small_items:
        api("GET", ITEMS, token=token)
    with CaptureQueriesContext(connection) as small_reports:
        api("GET", f"{ITEMS}{item.pk}/reports/", token=token)

    for i in range(4):
        new_item(s, title=f"更多事项{i}", lead_unit=s.cast.finance, co_units=[])
        upload = SimpleUploadedFile(f"附件{i}.txt", b"x", "text/plain")
        report = write_report(item, actor=s.general_staff, text=f"进展{i}", percentage=50, files=[upload])
        sign_off_report(report, actor=s.dept_head)

    with django_assert_num_queries(len(small_items.captured_queries)):
        assert len(api("GET", ITEMS, token=token).json()["results"]) == 5
    with django_assert_num_queries(len(small_reports.captured_queries)):
        assert len(api("GET", f"{ITEMS}{item.pk}/reports/", token=token).json()["results"]) == 6
