"""The meetings API (/api/v1/meetings/): a user token sees the meetings the pages show that user
(materials only to who reads them, their own 回执, counts only to the organiser side); an app's own
token the meetings its agencies organise or are invited to as an agency, never a draft; the same
404 for missing and not visible; filters, cursor pages and a constant query count."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from meetings import agenda, services
from meetings.models import Meeting, MeetingKind, Reply
from tests.meetings.meetings_cast import MeetingsCast, build_meetings_cast
from tests.meetings.test_materials import pdf_upload

pytestmark = pytest.mark.django_db

SCOPE = "meetings.read"
LIST = "/api/v1/meetings/"


@pytest.fixture
def meetings(cast: Any) -> MeetingsCast:
    return build_meetings_cast(cast)


def _meeting(m: MeetingsCast, *, notice: bool = True, hour: int = 9, days: int = 1, **extra: Any) -> Meeting:
    """A video meeting of 省府办公厅 tomorrow: the participant invited by name, 省财政厅 as an agency."""
    fields: dict[str, Any] = {
        "actor": m.organiser,
        "title": "全省营商环境工作推进会",
        "kind": MeetingKind.VIDEO,
        "starts_at": m.at(hour, days=days),
        "ends_at": m.at(hour + 1, days=days),
        "host": m.host,
        "online": True,
        "notice": "请各单位主要负责同志参加。",
    }
    fields.update(extra)
    meeting = services.create_meeting(**fields)
    services.set_invitees(meeting, actor=m.organiser, people=[m.participant], agencies=[(m.cast.finance, 2)])
    if notice:
        services.send_notice(meeting, actor=m.organiser)
    meeting.refresh_from_db()
    return meeting


def _ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_a_user_token_lists_the_meetings_the_pages_show_that_user(
    meetings: MeetingsCast, make_app: Any, token_for: Any, api: Any
) -> None:
    m = meetings
    meeting = _meeting(m)
    app = make_app(m.cast.gov_office, scopes=[SCOPE])

    def listed(user: Any) -> list[int]:
        return _ids(api("GET", LIST, token=token_for(app, user=user, scopes=SCOPE)))

    assert listed(m.participant) == [meeting.pk]
    assert listed(m.organiser) == [meeting.pk]
    assert listed(m.outsider) == []
    hidden = api("GET", f"{LIST}{meeting.pk}/", token=token_for(app, user=m.outsider, scopes=SCOPE))
    missing = api("GET", f"{LIST}{meeting.pk + 999}/", token=token_for(app, user=m.participant, scopes=SCOPE))
    for response in (hidden, missing):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def _with_agenda_and_material(m: MeetingsCast, meeting: Meeting) -> Any:
    agenda.add_agenda_item(meeting, actor=m.organiser, title="听取营商环境情况汇报", presenter_name="王处长")
    upload = pdf_upload(pages=1)
    return agenda.add_material(meeting, actor=m.organiser, upload=upload, title="汇报材料")


def test_the_invited_participant_sees_agenda_materials_and_own_rsvp_but_no_counts(
    meetings: MeetingsCast, make_app: Any, token_for: Any, api: Any
) -> None:
    m = meetings
    meeting = _meeting(m)
    material = _with_agenda_and_material(m, meeting)
    services.reply(meeting, actor=m.participant, reply=Reply.ATTEND)
    app = make_app(m.cast.gov_office, scopes=[SCOPE])

    body = api("GET", f"{LIST}{meeting.pk}/", token=token_for(app, user=m.participant, scopes=SCOPE)).json()

    assert body["title"] == "全省营商环境工作推进会" and body["kind"] == "video" and body["online"] is True
    assert body["host"] == {"id": m.host.pk, "name": m.host.real_name}
    assert body["organiser"]["id"] == m.organiser.pk
    assert body["status"] == "noticed"
    assert [(a["order"], a["title"], a["presenter"]) for a in body["agenda"]] == [
        (1, "听取营商环境情况汇报", "王处长")
    ]
    assert [(x["id"], x["title"]) for x in body["materials"]] == [(material.pk, "汇报材料")]
    assert body["materials"][0]["page_url"] == f"/meetings/materials/{material.pk}/"
    assert body["my_rsvp"]["reply"] == "attend"
    assert body["rsvp_counts"] is None


def test_the_organiser_gets_the_rsvp_counts_and_the_agencys_clerk_no_materials(
    meetings: MeetingsCast, make_app: Any, token_for: Any, api: Any
) -> None:
    m = meetings
    meeting = _meeting(m)
    _with_agenda_and_material(m, meeting)
    services.reply(meeting, actor=m.participant, reply=Reply.ATTEND)
    app = make_app(m.cast.gov_office, scopes=[SCOPE])

    organiser = api(
        "GET", f"{LIST}{meeting.pk}/", token=token_for(app, user=m.organiser, scopes=SCOPE)
    ).json()
    clerk = api(
        "GET", f"{LIST}{meeting.pk}/", token=token_for(app, user=m.finance_clerk, scopes=SCOPE)
    ).json()

    assert organiser["rsvp_counts"]["attend"] == 1
    assert organiser["rsvp_counts"]["invited"] == 1
    assert organiser["my_rsvp"] is None
    assert clerk["materials"] is None and clerk["rsvp_counts"] is None


def test_an_apps_own_token_sees_meetings_its_agency_organises_or_is_invited_to_never_drafts(
    meetings: MeetingsCast, make_app: Any, token_for: Any, api: Any
) -> None:
    m = meetings
    meeting = _meeting(m)
    _with_agenda_and_material(m, meeting)
    draft = _meeting(m, notice=False, hour=14)
    office_app = make_app(m.cast.gov_office, scopes=[SCOPE])
    finance_app = make_app(m.cast.finance, name="财务系统", scopes=[SCOPE])
    education_app = make_app(m.cast.education, name="教育系统", scopes=[SCOPE])

    def listed(app: Any) -> list[int]:
        return _ids(api("GET", LIST, token=token_for(app, scopes=SCOPE)))

    assert listed(office_app) == [meeting.pk]
    assert listed(finance_app) == [meeting.pk]
    assert listed(education_app) == []
    assert api("GET", f"{LIST}{draft.pk}/", token=token_for(office_app, scopes=SCOPE)).status_code == 404
    assert api("GET", f"{LIST}{meeting.pk}/", token=token_for(education_app, scopes=SCOPE)).status_code == 404
    organising = api("GET", f"{LIST}{meeting.pk}/", token=token_for(office_app, scopes=SCOPE)).json()
    invited = api("GET", f"{LIST}{meeting.pk}/", token=token_for(finance_app, scopes=SCOPE)).json()
    assert [x["title"] for x in organising["materials"]] == ["汇报材料"]
    assert organising["materials"][0]["page_url"] is None
    assert organising["rsvp_counts"]["invited"] == 1 and organising["my_rsvp"] is None
    assert invited["materials"] is None and invited["rsvp_counts"] is None
    assert invited["agenda"][0]["title"] == "听取营商环境情况汇报"


@pytest.mark.parametrize("suffix", ["", "{id}/"])
def test_every_endpoint_wants_a_token_and_the_meetings_scope(
    meetings: MeetingsCast, make_app: Any, token_for: Any, api: Any, suffix: str
) -> None:
    m = meetings
    meeting = _meeting(m)
    app = make_app(m.cast.gov_office, scopes=[SCOPE, "directory.read"])
    url = LIST + suffix.format(id=meeting.pk)

    assert api("GET", url).status_code == 401
    refused = api("GET", url, token=token_for(app, user=m.participant, scopes="directory.read"))
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "访问令牌未获授权：读取会议。"
    assert api("GET", url, token=token_for(app, scopes="directory.read")).status_code == 403
    assert api("GET", url, token=token_for(app, user=m.participant, scopes=SCOPE)).status_code == 200


def test_filters_by_dates_kind_and_status(
    meetings: MeetingsCast, make_app: Any, token_for: Any, api: Any
) -> None:
    m = meetings
    tomorrow = _meeting(m)
    later = _meeting(m, days=3, kind=MeetingKind.TOPIC, title="专题会")
    services.cancel_meeting(later, actor=m.organiser, reason="改期")
    app = make_app(m.cast.gov_office, scopes=[SCOPE])
    token = token_for(app, scopes=SCOPE)
    day1, day3 = m.at(9).date().isoformat(), m.at(9, days=3).date().isoformat()

    def listed(query: str) -> set[int]:
        return set(_ids(api("GET", f"{LIST}?{query}", token=token)))

    assert listed(f"from={day1}&to={day1}") == {tomorrow.pk}
    assert listed(f"from={day3}") == {later.pk}
    assert listed("kind=topic") == {later.pk}
    assert listed("status=cancelled") == {later.pk}
    assert listed("status=noticed") == {tomorrow.pk}
    bad = api("GET", f"{LIST}?kind=party", token=token)
    assert bad.status_code == 400 and "kind" in bad.json()["error"]["fields"]


def test_cursor_pages_and_a_constant_query_count(
    meetings: MeetingsCast, make_app: Any, token_for: Any, api: Any, django_assert_num_queries: Any
) -> None:
    m = meetings
    made = [_meeting(m, hour=8 + i) for i in range(2)]
    app = make_app(m.cast.gov_office, scopes=[SCOPE])
    token = token_for(app, user=m.organiser, scopes=SCOPE)
    api("GET", LIST, token=token)
    with CaptureQueriesContext(connection) as small:
        api("GET", LIST, token=token)

    made += [_meeting(m, hour=8 + i, days=2) for i in range(4)]

    with django_assert_num_queries(len(small.captured_queries)):
        assert len(api("GET", LIST, token=token).json()["results"]) == 6
    seen: list[int] = []
    url: str | None = f"{LIST}?page_size=4"
    while url:
        body = api("GET", url, token=token).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert seen == sorted((x.pk for x in made), reverse=True)
