"""会议纪要 page: the organiser writes the 纪要 and 议定事项, sends it to 发文 and turns a decision into
督办 (the button only for who may); participants read; outsiders get 404."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from meetings import minutes
from meetings.minutes import DecisionInput
from meetings.models import Decision, Minutes
from tests.meetings.factories_c import make_meeting
from tests.meetings.meetings_cast import MeetingsCast

pytestmark = pytest.mark.django_db


def url(meeting: Any) -> str:
    return reverse("meetings:minutes", args=[meeting.pk])


def form_data(body: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "action": "save",
        "body": body,
        "decisions-TOTAL_FORMS": str(len(rows)),
        "decisions-INITIAL_FORMS": "0",
        "decisions-MIN_NUM_FORMS": "0",
        "decisions-MAX_NUM_FORMS": "60",
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"decisions-{i}-{key}"] = value
    return data


def with_decision(meetings: MeetingsCast) -> Any:
    meeting = make_meeting(meetings)
    minutes.save_minutes(
        meeting,
        actor=meetings.organiser,
        body="会议研究了有关事项。",
        decisions=[DecisionInput(text="综合处牵头起草实施方案", lead_department=meetings.cast.general_dept)],
    )
    return meeting


def test_the_organiser_saves_the_body_and_decisions_through_the_page(
    meetings: MeetingsCast, sign_in: Any
) -> None:
    meeting = make_meeting(meetings)
    client = sign_in(meetings.organiser)
    assert 'name="decisions-2-text"' in client.get(url(meeting)).content.decode()
    due = (timezone.localdate() + timedelta(days=10)).isoformat()
    response = client.post(
        url(meeting),
        form_data(
            "会议研究了有关事项。",
            [
                {
                    "text": "综合处牵头起草实施方案",
                    "lead_department": meetings.cast.general_dept.pk,
                    "due_on": due,
                },
                {"text": ""},
            ],
        ),
        follow=True,
    )
    assert response.status_code == 200 and "纪要已保存。" in response.content.decode()
    assert Minutes.objects.get().body == "会议研究了有关事项。"
    assert list(Decision.objects.values_list("text", flat=True)) == ["综合处牵头起草实施方案"]


def test_a_refused_save_keeps_what_was_typed(meetings: MeetingsCast, sign_in: Any) -> None:
    meeting = make_meeting(meetings)
    past = (timezone.localdate() - timedelta(days=5)).isoformat()
    response = sign_in(meetings.organiser).post(
        url(meeting), form_data("正文草稿第一段", [{"text": "逾期事项", "due_on": past}])
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "完成时限不能早于会议日期" in html and "正文草稿第一段" in html and "逾期事项" in html
    assert not Minutes.objects.exists()


def test_sending_to_the_outgoing_flow_through_the_page(meetings: MeetingsCast, sign_in: Any) -> None:
    meeting = with_decision(meetings)
    response = sign_in(meetings.organiser).post(url(meeting), {"action": "issue"}, follow=True)
    html = response.content.decode()
    document = Minutes.objects.get().document
    assert document is not None and "纪要已送发文办理" in html
    assert reverse("documents:detail", args=[document.pk]) in html
    assert 'name="body"' not in html


def test_issuing_empty_minutes_is_refused_on_the_page(meetings: MeetingsCast, sign_in: Any) -> None:
    meeting = make_meeting(meetings)
    response = sign_in(meetings.organiser).post(url(meeting), {"action": "issue"})
    assert response.status_code == 400 and "请先填写纪要正文。" in response.content.decode()


def test_the_supervise_button_shows_only_for_who_may_and_works(meetings: MeetingsCast, sign_in: Any) -> None:
    meeting = with_decision(meetings)
    decision = Decision.objects.get()
    assert "转督办" in sign_in(meetings.organiser).get(url(meeting)).content.decode()
    assert "转督办" not in sign_in(meetings.meeting_admin).get(url(meeting)).content.decode()
    assert "转督办" not in sign_in(meetings.participant).get(url(meeting)).content.decode()
    response = sign_in(meetings.organiser).post(
        url(meeting), {"action": "supervise", "decision": decision.pk}, follow=True
    )
    decision.refresh_from_db()
    assert decision.supervision_item is not None
    assert (
        reverse("workflows:supervision_item", args=[decision.supervision_item.pk])
        in response.content.decode()
    )


def test_the_meeting_admin_posting_supervise_is_told_why(meetings: MeetingsCast, sign_in: Any) -> None:
    meeting = with_decision(meetings)
    response = sign_in(meetings.meeting_admin).post(
        url(meeting), {"action": "supervise", "decision": Decision.objects.get().pk}
    )
    assert response.status_code == 400 and "督查员或办公室人员" in response.content.decode()


def test_a_participant_reads_but_may_not_post(meetings: MeetingsCast, sign_in: Any) -> None:
    meeting = with_decision(meetings)
    client = sign_in(meetings.participant)
    html = client.get(url(meeting)).content.decode()
    assert "会议研究了有关事项。" in html and "综合处牵头起草实施方案" in html and 'name="body"' not in html
    assert client.post(url(meeting), form_data("篡改", [])).status_code == 403
    assert Minutes.objects.get().body == "会议研究了有关事项。"


def test_an_outsider_gets_404(meetings: MeetingsCast, sign_in: Any) -> None:
    meeting = with_decision(meetings)
    assert sign_in(meetings.outsider).get(url(meeting)).status_code == 404


def test_the_meeting_page_section_lists_the_decisions(meetings: MeetingsCast) -> None:
    meeting = with_decision(meetings)
    html = render_to_string(
        "meetings/_detail_minutes.html",
        {"meeting": meeting, "can_manage": True, "rsvp": None, "user": meetings.organiser},
    )
    assert "综合处牵头起草实施方案" in html and "编写纪要与议定事项" in html
