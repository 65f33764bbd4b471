"""The audit page: the 审计管理员's only page — search, filter, page through, export."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from officeapp.audit import export as export_module
from officeapp.audit.chain import chain_pending
from officeapp.audit.models import AuditEvent
from officeapp.audit.services import record
from tests.conftest import CAST_USERS

EVENTS = reverse("audit:events")
EXPORT = reverse("audit:export")
NOT_AUDITORS = [name for name in CAST_USERS if name != "audit_admin"]


@pytest.fixture
def auditor(cast: Any, sign_in_verified: Any) -> Client:
    return sign_in_verified(cast.audit_admin)


@pytest.fixture
def trail(cast: Any) -> dict[str, AuditEvent]:
    """A few recognisable events of different people, agencies, outcomes and addresses."""
    events = {
        "drafter": record(
            "doc.draft.create",
            actor=cast.drafter,
            object_type="documents.officialdocument",
            object_id=41,
            client_address="10.1.2.3",
            details={"doc_type": "通知"},
        ),
        "denied": record(
            "doc.draft.view",
            actor=cast.outsider,
            object_type="documents.officialdocument",
            object_id=41,
            outcome="denied",
            client_address="10.9.9.9",
        ),
        "finance": record(
            "org.user.update",
            actor=cast.other_clerk,
            object_type="org.user",
            object_id=cast.other_clerk.pk,
            client_address="192.168.0.7",
        ),
    }
    chain_pending(settle_seconds=0)
    return events


def _ids(response: Any) -> list[str]:
    """Actions shown in the table, top to bottom."""
    return re.findall(r"<td><code>([^<]+)</code></td>", response.content.decode())


def test_anonymous_visitor_is_sent_to_sign_in(client: Client, db: Any) -> None:
    response = client.get(EVENTS)
    assert response.status_code == 302 and "next=/audit/" in response["Location"]


@pytest.mark.parametrize("name", NOT_AUDITORS)
def test_everyone_but_the_audit_admin_gets_403(cast: Any, sign_in_verified: Any, name: str) -> None:
    client = sign_in_verified(getattr(cast, name))
    assert client.get(EVENTS).status_code == 403
    assert client.post(EXPORT, {"format": "csv"}).status_code == 403
    assert not AuditEvent.objects.filter(action="audit.export").exists()
    # and the attempts are on record
    attempts = AuditEvent.objects.filter(action="audit.access", actor=getattr(cast, name), outcome="denied")
    assert sorted(e.details["path"] for e in attempts) == [EVENTS, EXPORT]


def test_audit_admin_sees_events_newest_first(auditor: Client, trail: dict[str, AuditEvent]) -> None:
    response = auditor.get(EVENTS)
    assert response.status_code == 200
    page = response.content.decode()
    assert "审计日志" in page
    actions = _ids(response)
    assert actions[:3] == ["org.user.update", "doc.draft.view", "doc.draft.create"]
    assert "林小梅" in page and "BGT001" in page and "10.1.2.3" in page
    assert "拒绝" in page  # outcome in Chinese
    assert "doc_type=通知" in page


def test_times_are_shown_in_shanghai_time(auditor: Client, db: Any) -> None:
    AuditEvent.objects.create(action="test.midnight_utc", occurred_at=datetime(2026, 1, 1, tzinfo=UTC))
    page = auditor.get(EVENTS, {"action": "test.midnight_utc"}).content.decode()
    assert "2026-01-01 08:00:00" in page


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"actor": "BGT001"}, ["doc.draft.create"]),
        ({"actor": "赵文静"}, ["doc.draft.view"]),
        ({"actor": "other_clerk"}, ["org.user.update"]),
        ({"action": "doc."}, ["doc.draft.view", "doc.draft.create"]),
        ({"action": "doc.draft.view"}, ["doc.draft.view"]),
        ({"outcome": "denied"}, ["doc.draft.view"]),
        (
            {"object_type": "documents.officialdocument", "object_id": "41"},
            ["doc.draft.view", "doc.draft.create"],
        ),
        ({"client_address": "192.168.0.7"}, ["org.user.update"]),
        ({"chain": "GD-CZT"}, ["org.user.update"]),
        ({"chain": "广东省财政厅"}, ["org.user.update"]),
    ],
)
def test_filters_narrow_the_list(
    auditor: Client, trail: dict[str, AuditEvent], filters: dict[str, str], expected: list[str]
) -> None:
    response = auditor.get(EVENTS, filters)
    assert response.status_code == 200
    assert _ids(response) == expected


def test_platform_chain_filter_shows_events_without_an_agency(
    auditor: Client, trail: dict[str, AuditEvent]
) -> None:
    actions = set(_ids(auditor.get(EVENTS, {"chain": "平台"})))
    assert "org.user.create" in actions  # the cast was built by the platform (no actor)
    assert not actions & {"doc.draft.create", "org.user.update"}


def test_time_range_filter(auditor: Client, db: Any) -> None:
    AuditEvent.objects.create(action="test.january", occurred_at=datetime(2026, 1, 10, 2, 0, tzinfo=UTC))
    AuditEvent.objects.create(action="test.march", occurred_at=datetime(2026, 3, 10, 2, 0, tzinfo=UTC))
    response = auditor.get(
        EVENTS, {"start": "2026-01-01T00:00", "end": "2026-02-01T00:00", "action": "test."}
    )
    assert _ids(response) == ["test.january"]
    # the range is read in Shanghai time: 10:00 there is 02:00 UTC
    assert _ids(auditor.get(EVENTS, {"start": "2026-01-10T10:01", "end": "2026-02-01T00:00"})) == []


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"actor": "不存在的人"}, "未找到该操作人。"),
        ({"chain": "NO-SUCH-AGENCY"}, "未找到该机关。"),
        ({"client_address": "10.1.2"}, "请输入有效的 IP 地址。"),
        ({"start": "昨天"}, "请输入有效的时间。"),
        ({"start": "0001-01-01T00:00"}, "请输入有效的时间。"),
        ({"end": "0001-01-01T07:59"}, "请输入有效的时间。"),
        ({"start": "2026-02-01T00:00", "end": "2026-01-01T00:00"}, "结束时间须晚于开始时间。"),
        ({"outcome": "maybe"}, "请选择有效的结果。"),
        ({"before": "abc"}, "分页参数无效。"),
    ],
)
def test_bad_filters_rerender_with_a_chinese_message_and_what_was_typed(
    auditor: Client, trail: dict[str, AuditEvent], filters: dict[str, str], message: str
) -> None:
    response = auditor.get(EVENTS, filters)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    for name, value in filters.items():
        if name != "before":
            assert f'value="{value}"' in page
    assert _ids(response) == []


def test_pages_go_back_in_time_without_counting_the_table(auditor: Client, db: Any) -> None:
    AuditEvent.objects.bulk_create([AuditEvent(action=f"test.page.{n:03d}") for n in range(120)])
    with CaptureQueriesContext(connection) as queries:
        first = auditor.get(EVENTS, {"action": "test.page."})
    audit_queries = [
        q["sql"].upper() for q in queries.captured_queries if "AUDIT_AUDITEVENT" in q["sql"].upper()
    ]
    assert audit_queries and not any("COUNT(" in sql or "OFFSET" in sql for sql in audit_queries)
    assert _ids(first) == [f"test.page.{n:03d}" for n in range(119, 69, -1)]
    next_url = re.search(r'href="([^"]+)" rel="next"', first.content.decode()).group(1).replace("&amp;", "&")
    second = auditor.get(EVENTS + next_url)
    assert _ids(second) == [f"test.page.{n:03d}" for n in range(69, 19, -1)]
    third_url = (
        re.search(r'href="([^"]+)" rel="next"', second.content.decode()).group(1).replace("&amp;", "&")
    )
    third = auditor.get(EVENTS + third_url)
    assert _ids(third) == [f"test.page.{n:03d}" for n in range(19, -1, -1)]
    assert 'rel="next"' not in third.content.decode()
    assert "回到最新" in third.content.decode()


def test_export_xlsx_rows_match_the_filtered_events(auditor: Client, trail: dict[str, AuditEvent]) -> None:
    response = auditor.post(EXPORT, {"action": "doc.", "format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert "filename*=utf-8''%E5%AE%A1%E8%AE%A1" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:9] == ("ID", "时间", "操作人", "工号", "客户端地址", "操作", "对象类型", "对象", "结果")
    assert [(r[0], r[2], r[3], r[5], r[8]) for r in rows[1:]] == [
        (trail["denied"].pk, "赵文静", "JYT001", "doc.draft.view", "拒绝"),
        (trail["drafter"].pk, "林小梅", "BGT001", "doc.draft.create", "成功"),
    ]


def test_an_export_is_itself_audited(auditor: Client, cast: Any, trail: dict[str, AuditEvent]) -> None:
    auditor.post(EXPORT, {"actor": "BGT001", "format": "csv"})
    export = AuditEvent.objects.get(action="audit.export")
    assert export.actor == cast.audit_admin
    assert export.details == {"format": "csv", "rows": 1, "truncated": False, "filters": {"actor": "BGT001"}}


def test_export_csv_is_excel_readable_and_defuses_formulas(auditor: Client, cast: Any, db: Any) -> None:
    record("test.csv", actor_label='=HYPERLINK("http://evil")', object_id="-1")
    response = auditor.post(EXPORT, {"action": "test.csv", "format": "csv"})
    assert response.status_code == 200
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "ID" and len(rows) == 2
    assert rows[1][2] == '\'=HYPERLINK("http://evil")' and rows[1][7] == "'-1"


def test_export_xlsx_keeps_formula_like_text_as_text(auditor: Client, db: Any) -> None:
    record("test.xlsx", actor_label="=1+1")
    response = auditor.post(EXPORT, {"action": "test.xlsx", "format": "xlsx"})
    cell = load_workbook(io.BytesIO(response.content)).active["C2"]
    assert (cell.value, cell.data_type) == ("=1+1", "s")


def test_export_without_a_format_rerenders_with_a_message(
    auditor: Client, trail: dict[str, AuditEvent]
) -> None:
    response = auditor.post(EXPORT, {"action": "doc.", "format": "pdf"})
    assert response.status_code == 400
    assert "请选择导出格式（xlsx 或 csv）。" in response.content.decode()
    assert 'value="doc."' in response.content.decode()
    assert not AuditEvent.objects.filter(action="audit.export").exists()


def test_next_page_after_a_refused_export_keeps_the_filters(auditor: Client, db: Any) -> None:
    AuditEvent.objects.bulk_create([AuditEvent(action=f"test.page.{n:03d}") for n in range(60)])
    AuditEvent.objects.bulk_create([AuditEvent(action="other.event") for _ in range(60)])
    refused = auditor.post(EXPORT, {"action": "test.page.", "format": "pdf"})
    assert refused.status_code == 400
    next_url = (
        re.search(r'href="([^"]+)" rel="next"', refused.content.decode()).group(1).replace("&amp;", "&")
    )
    second = auditor.get(EVENTS + next_url)
    assert _ids(second) == [f"test.page.{n:03d}" for n in range(9, -1, -1)]


def test_export_with_a_bad_filter_rerenders_with_a_message(
    auditor: Client, trail: dict[str, AuditEvent]
) -> None:
    response = auditor.post(EXPORT, {"actor": "不存在的人", "format": "csv"})
    assert response.status_code == 400
    assert "未找到该操作人。" in response.content.decode()


def test_too_large_an_export_asks_for_a_narrower_filter(
    auditor: Client, trail: dict[str, AuditEvent], monkeypatch: pytest.MonkeyPatch
) -> None:
    from officeapp.audit import views

    monkeypatch.setattr(views, "EXPORT_MAX_ROWS", 2)
    monkeypatch.setattr(export_module, "EXPORT_MAX_ROWS", 2)
    response = auditor.post(EXPORT, {"format": "xlsx"})
    assert response.status_code == 400
    assert "筛选结果超过 2 条，请缩小时间范围或增加条件后再导出。" in response.content.decode()


def test_export_needs_a_csrf_token(cast: Any, sign_in_verified: Any) -> None:
    client = sign_in_verified(cast.audit_admin)
    client.handler.enforce_csrf_checks = True
    assert client.post(EXPORT, {"format": "csv"}).status_code == 403
    page = client.get(EVENTS).content.decode()
    assert 'name="csrfmiddlewaretoken"' in page


def test_export_by_get_is_not_allowed(auditor: Client) -> None:
    assert auditor.get(EXPORT, {"format": "csv"}).status_code == 405
