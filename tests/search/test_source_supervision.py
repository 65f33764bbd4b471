"""The 督办 source: what an item and a report look like in the index, which outbox rows of the 督办
services name which keys (so every change reaches the index), and what a rebuild walks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse

from officeapp.outbox.models import OutboxEvent
from search.interface import KINDS
from search.sources.supervision import SOURCES, ProgressReportSource, SupervisionItemSource
from tests.workflows.supervision_cast import build_supervision_cast
from tests.workflows.test_supervision_flow import act, complete_by_report, new_item, to_accept, today
from workflows.models import ProgressReport, SupervisionItem
from workflows.supervision import sign_off_report, write_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervision(cast: Any) -> Any:
    from tests.workflows.conftest import build_flow_cast
    from tests.workflows.incoming_cast import build_receiving_cast

    return build_supervision_cast(build_receiving_cast(build_flow_cast(cast)))


def refs_since(mark: int) -> list[str]:
    """Every key the 督办 sources take from the outbox rows written after `mark`."""
    keys: list[str] = []
    for event in OutboxEvent.objects.filter(pk__gt=mark).order_by("pk"):
        for source in SOURCES:
            keys += list(source.refs_for(event))
    return keys


def last_event() -> int:
    return OutboxEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def test_the_sources_register_under_their_prefixes_as_supervision() -> None:
    assert [(s.prefix, s.kind) for s in SOURCES] == [
        ("supervision", "supervision"),
        ("report", "supervision"),
    ]
    assert all(s.kind in KINDS for s in SOURCES)


def test_an_item_is_indexed_with_its_text_units_state_and_page(supervision: Any) -> None:
    s = supervision
    item = new_item(
        s, title="推进政务服务一网通办", requirement="每月报送进展", instruction="请办公厅牵头抓好落实。"
    )

    [doc], gone = SupervisionItemSource().build([f"supervision:{item.pk}"])

    assert gone == []
    assert doc.key == f"supervision:{item.pk}" and doc.kind == "supervision"
    assert doc.title == "推进政务服务一网通办"
    assert "每月报送进展" in doc.body and "请办公厅牵头抓好落实" in doc.body
    assert "综合处" in doc.body and "秘书处" in doc.body
    assert doc.url == reverse("workflows:supervision_item", args=[item.pk])
    assert doc.agency_id == s.cast.gov_office.pk and doc.agency_name == s.cast.gov_office.name
    assert (doc.status, doc.status_label) == ("register", "登记编号")
    assert doc.date == item.created_at and doc.acl_seq == 0


def test_a_report_is_indexed_with_its_text_and_files_under_its_item(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    to_accept(s, item)
    act(item, "accept", s.dept_head)
    report = write_report(item, actor=s.general_staff, text="已完成防汛物资储备", percentage=40)

    [doc], _ = ProgressReportSource().build([f"report:{report.pk}"])

    assert doc.kind == "supervision" and "已完成防汛物资储备" in doc.body
    assert doc.title.startswith(item.title) and "进展反馈" in doc.title and "综合处" in doc.title
    assert doc.url == reverse("workflows:supervision_item", args=[item.pk]) + "#reports"
    assert (doc.status, doc.status_label) == ("draft", "待审签")
    [item_doc], _ = SupervisionItemSource().build([f"supervision:{item.pk}"])
    assert doc.principals == item_doc.principals


def test_keys_of_missing_records_are_given_back_for_deletion(supervision: Any) -> None:
    docs, gone = SupervisionItemSource().build(["supervision:999999", "supervision:x"])
    assert docs == [] and gone == ["supervision:999999"]
    docs, gone = ProgressReportSource().build(["report:424242"])
    assert docs == [] and gone == ["report:424242"]


def test_every_step_of_the_flow_names_the_item_and_its_reports(supervision: Any) -> None:
    s = supervision
    mark = last_event()
    item = new_item(s)
    assert f"supervision:{item.pk}" in refs_since(mark)

    mark = last_event()
    to_accept(s, item)  # 登记, 拟办, 审定, 交办: new participants each time
    act(item, "accept", s.dept_head)
    assert refs_since(mark).count(f"supervision:{item.pk}") >= 5

    mark = last_event()
    report = write_report(item, actor=s.general_staff, text="进展", percentage=10)
    keys = refs_since(mark)
    assert f"report:{report.pk}" in keys and f"supervision:{item.pk}" in keys

    mark = last_event()
    sign_off_report(report, actor=s.dept_head)
    assert f"report:{report.pk}" in refs_since(mark)

    # 承办 ends with the signed 办结报告: its outbox row names only the task, and still reaches the item.
    mark = last_event()
    completion = complete_by_report(s, item)
    keys = refs_since(mark)
    assert {f"supervision:{item.pk}", f"report:{report.pk}", f"report:{completion.pk}"} <= set(keys)
    assert SupervisionItem.objects.get(pk=item.pk).state == "review"


def test_a_split_names_the_parent_and_the_children(supervision: Any) -> None:
    from workflows.supervision import split_item

    s = supervision
    parent = new_item(s)
    to_accept(s, parent)
    act(parent, "accept", s.dept_head)
    mark = last_event()
    children = split_item(
        parent,
        actor=s.supervisor,
        parts=[
            {"title": "子项一", "lead_unit": s.cast.general_dept, "due_on": today() + timedelta(days=20)},
            {"title": "子项二", "lead_unit": s.cast.finance, "due_on": today() + timedelta(days=25)},
        ],
    )
    keys = refs_since(mark)
    assert {f"supervision:{parent.pk}", *(f"supervision:{c.pk}" for c in children)} <= set(keys)


def test_unrelated_outbox_rows_name_nothing(supervision: Any) -> None:
    event = OutboxEvent(
        topic="workflows.task.completed",
        object_type="workflow.task",
        object_id="1",
        payload={"flow": "outgoing"},
    )
    assert all(list(source.refs_for(event)) == [] for source in SOURCES)
    event = OutboxEvent(topic="chat.message", object_type="chat.message", object_id="1", payload={})
    assert all(list(source.refs_for(event)) == [] for source in SOURCES)


def test_a_rebuild_walks_every_item_and_report(supervision: Any) -> None:
    s = supervision
    first, second = new_item(s), new_item(s, title="第二项")
    to_accept(s, first)
    act(first, "accept", s.dept_head)
    report = write_report(first, actor=s.general_staff, text="进展", percentage=10)
    items, reports = SOURCES
    assert list(items.all_keys()) == [f"supervision:{first.pk}", f"supervision:{second.pk}"]
    assert items.count() == 2
    assert (
        list(reports.all_keys()) == [f"report:{report.pk}"]
        and reports.count() == ProgressReport.objects.count()
    )
