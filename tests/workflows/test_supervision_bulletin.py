"""月度督办通报 (workflows/supervision_bulletin.py and its page): the text written from the month's
figures of the known set (tests/workflows/test_supervision_dashboard.py, on 2026-06-17), the 通报
draft in the 发文 flow, the warning on a second one for the same month, refusals and who may."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import time_machine
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from documents.models import DocType, OfficialDocument
from tests.workflows.test_supervision_dashboard import TODAY, KnownSet, at, build_known_set

pytestmark = [pytest.mark.django_db]

PAGE = "/workflows/supervision/bulletin/"
JUNE = date(2026, 6, 1)


@pytest.fixture(autouse=True)
def on_today() -> Iterator[None]:
    with time_machine.travel(at(TODAY, 10), tick=False):
        yield


@pytest.fixture
def known(supervision: Any) -> KnownSet:
    return build_known_set(supervision)


def test_the_bulletin_text_gives_the_months_figures_units_and_praise_and_criticism(
    known: KnownSet, supervision: Any
) -> None:
    from workflows.supervision_bulletin import bulletin_for

    bulletin = bulletin_for(supervision.cast.gov_office.pk, JUNE)
    text = bulletin.text()

    assert bulletin.title == "关于2026年6月督查督办工作情况的通报"
    assert "2026年6月，新立项督办事项6件，办结销号2件，截至月末在办4件。" in text
    assert "红灯（逾期）1件，黄灯（临近时限或反馈逾期）1件，绿灯（正常推进）2件" in text
    assert "1. 整理2025年度督办档案（督〔2026〕4号），牵头单位：秘书处。" in text
    assert "2. 拨付防汛救灾资金（督〔2026〕6号），牵头单位：广东省财政厅。" in text
    # A is past its deadline and still open; D was 办结 4 days after its deadline
    late_line = next(
        line for line in text.splitlines() if line.startswith("以下单位牵头的督办事项未在时限内办结")
    )
    assert "综合处（1件）" in late_line and "秘书处（1件）" in late_line and "省财政厅" not in late_line
    assert "以下单位未按时反馈办理进展：综合处（1件）。" in text
    assert "表扬：广东省财政厅（1件）按时办结督办事项" in text
    criticism = next(line for line in text.splitlines() if line.startswith("批评："))
    assert "综合处" in criticism and "秘书处" in criticism and "省财政厅" not in criticism
    assert [b["text"] for b in bulletin.blocks() if b["kind"] == "h1"] == [
        "一、总体情况",
        "二、办结情况",
        "三、逾期情况",
        "四、表扬与批评",
        "五、工作要求",
    ]


def test_a_quiet_month_says_so_instead_of_naming_anyone(known: KnownSet, supervision: Any) -> None:
    from workflows.supervision_bulletin import bulletin_for

    text = bulletin_for(supervision.cast.gov_office.pk, date(2026, 3, 1)).text()

    assert "新立项督办事项0件，办结销号0件，截至月末在办0件" in text
    assert "本月没有办结销号的督办事项。" in text
    assert "本月没有未在时限内办结的督办事项。" in text
    assert "本月无表扬、批评事项。" in text


def test_the_page_previews_the_text_before_anything_is_created(
    known: KnownSet, supervision: Any, sign_in: Any
) -> None:
    client = sign_in(supervision.supervisor)

    blank = client.get(PAGE)
    preview = client.get(PAGE, {"month": "2026-06"})

    assert blank.status_code == 200 and 'value="2026-05"' in blank.content.decode()  # last month offered
    html = preview.content.decode()
    assert "关于2026年6月督查督办工作情况的通报" in html
    assert "表扬：广东省财政厅（1件）按时办结督办事项" in html
    assert not OfficialDocument.objects.filter(doc_type=DocType.CIRCULAR).exists()


def test_creating_makes_a_circular_draft_of_the_office_in_the_outgoing_flow(
    known: KnownSet, supervision: Any, sign_in: Any
) -> None:
    from documents.models import DocumentVersion
    from officeapp.audit.models import AuditEvent

    client = sign_in(supervision.supervisor)

    response = client.post(PAGE, {"month": "2026-06"})

    document = OfficialDocument.objects.get(doc_type=DocType.CIRCULAR)
    assert response.status_code == 302 and response["Location"] == f"/documents/{document.pk}/"
    assert document.title == "关于2026年6月督查督办工作情况的通报"
    assert document.agency == supervision.cast.gov_office
    assert document.drafter == supervision.supervisor
    assert document.main_recipients_text == "各有关单位"
    body = DocumentVersion.objects.filter(document=document).latest("number").body
    assert {"kind": "h1", "text": "四、表扬与批评"} in body
    assert any("表扬：广东省财政厅（1件）" in b["text"] for b in body)
    # the 拟稿 task of its 发文 process is the 督查员's: it goes on like any 发文
    draft = Task.objects.get(process__outgoingprocess__document=document, flow_task__endswith=".draft")
    assert draft.owner == supervision.supervisor and draft.status in (STATUS.NEW, STATUS.ASSIGNED)
    event = AuditEvent.objects.get(action="workflows.supervision_bulletin_created")
    assert event.details == {"month": "2026-06", "redo": False}


def test_a_second_bulletin_for_the_month_warns_and_needs_the_redo_box(
    known: KnownSet, supervision: Any, sign_in: Any
) -> None:
    client = sign_in(supervision.supervisor)
    client.post(PAGE, {"month": "2026-06"})

    # when: the same month again, first without ticking 重新生成
    preview = client.get(PAGE, {"month": "2026-06"})
    refused = client.post(PAGE, {"month": "2026-06"})

    # then: warned on the preview, refused with the reason, nothing new
    assert "本月的督办通报已生成过" in preview.content.decode()
    assert refused.status_code == 200
    assert "本月的督办通报已经生成过。如需重新生成，请勾选后再提交。" in refused.content.decode()
    assert OfficialDocument.objects.filter(doc_type=DocType.CIRCULAR).count() == 1

    # when: ticked
    redone = client.post(PAGE, {"month": "2026-06", "redo": "1"})

    # then: a second draft
    assert redone.status_code == 302
    assert OfficialDocument.objects.filter(doc_type=DocType.CIRCULAR).count() == 2


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2026-13", "请按 2026-11 的格式填写月份。"),
        ("2026-07", "不能通报尚未开始的月份。"),
        ("", "请选择通报月份。"),
    ],
)
def test_a_bad_month_is_refused_clearly_and_nothing_is_created(
    known: KnownSet, supervision: Any, sign_in: Any, month: str, message: str
) -> None:
    response = sign_in(supervision.supervisor).post(PAGE, {"month": month})

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not OfficialDocument.objects.filter(doc_type=DocType.CIRCULAR).exists()


def test_only_the_supervisor_and_the_office_may_make_a_bulletin(
    known: KnownSet, supervision: Any, sign_in: Any
) -> None:
    for person in (supervision.dept_head, supervision.leader, supervision.cast.drafter):
        client = sign_in(person)
        assert client.get(PAGE).status_code == 403
        assert client.post(PAGE, {"month": "2026-06"}).status_code == 403
    assert not OfficialDocument.objects.filter(doc_type=DocType.CIRCULAR).exists()
    assert sign_in(supervision.office_director).get(PAGE).status_code == 200


def test_the_service_refuses_someone_who_does_not_supervise_the_agency(
    known: KnownSet, supervision: Any
) -> None:
    from workflows.acting import FlowError
    from workflows.supervision_bulletin import create_bulletin

    with pytest.raises(FlowError, match="只有本机关督查室（督查员）和办公室可以生成督办通报"):
        create_bulletin(actor=supervision.dept_head, agency_id=supervision.cast.gov_office.pk, month=JUNE)
    with pytest.raises(FlowError):
        create_bulletin(
            actor=supervision.flow_cast.finance_director, agency_id=supervision.cast.gov_office.pk, month=JUNE
        )
    assert not OfficialDocument.objects.filter(doc_type=DocType.CIRCULAR).exists()
