"""Meetings in search are seen by exactly whom access.py lets see them: for every person in the
database and every meeting of a varied set, "a principal in common" equals `visible_meetings`, and
for every material it equals `material_meetings` (seat holders: not the clerk still choosing, not
someone who handed the seat to a delegate or was removed from the room)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from meetings.access import (
    material_meetings,
    material_principals,
    meeting_principals,
    search_principals_of,
    visible_meetings,
)
from meetings.models import Invitee, InviteeKind, Material, Meeting, MeetingStatus, Reply, Rsvp
from officeapp.blobs.models import Blob
from officeapp.org import services as org
from officeapp.org.models import Role, User
from search.sources.meetings import MaterialSource, MeetingSource
from tests.conftest import CAST_PASSWORD
from tests.meetings.factories_c import make_meeting, set_reply
from tests.meetings.meetings_cast import MeetingsCast, build_meetings_cast

pytestmark = pytest.mark.django_db


def visible_with_floors(
    user_principals: Mapping[str, int | None], doc_principals: Any, acl_seq: int = 0
) -> bool:
    """The engines' rule: one principal in common whose floor (if any) is below the item's acl_seq."""
    return any(
        p in user_principals and (user_principals[p] is None or acl_seq > user_principals[p])
        for p in doc_principals
    )


@pytest.fixture
def meetings(cast: Any) -> MeetingsCast:
    return build_meetings_cast(cast)


def _person(username: str, department: Any, no: str) -> Any:
    return org.create_user(
        actor=None,
        username=username,
        real_name=username,
        department=department,
        password=CAST_PASSWORD,
        employee_no=no,
        mobile=f"135{no[-8:]:0>8}",
    )


def _material(meeting: Meeting, n: int) -> Material:
    blob = Blob.objects.create(
        sha256=f"{n:064x}", size=10, content_type="application/pdf", key=f"sha256/00/00/{n:064x}"
    )
    return Material.objects.create(
        meeting=meeting, blob=blob, title=f"材料{n}", filename=f"材料{n}.pdf", uploaded_by=meeting.organiser
    )


def varied_meetings(m: MeetingsCast) -> list[Meeting]:
    cast = m.cast
    plain = make_meeting(m, title="全省防汛工作会议")  # participant and colleague invited by name

    delegated = make_meeting(m, title="乡村振兴专题会")
    set_reply(delegated, m.participant, Reply.DELEGATE)
    stand_in = _person("stand_in", cast.general_dept, "BGT0501")
    Rsvp.objects.create(
        meeting=delegated,
        user=stand_in,
        invitee=Rsvp.objects.get(meeting=delegated, user=m.participant).invitee,
        delegated_from=Rsvp.objects.get(meeting=delegated, user=m.participant),
    )
    Rsvp.objects.filter(meeting=delegated, user=m.colleague).update(removed_at=timezone.now())

    agency_invited = make_meeting(m, title="财政资金调度会", invite=(m.participant,))
    Invitee.objects.create(meeting=agency_invited, kind=InviteeKind.AGENCY, agency=cast.finance, quota=2)

    of_finance = Meeting.objects.create(
        agency=cast.finance,
        title="财政厅办公会",
        starts_at=m.at(9),
        ends_at=m.at(10),
        host=m.finance_staff,
        organiser=m.finance_staff,
        status=MeetingStatus.NOTICED,
    )
    cancelled = make_meeting(
        m, title="已取消的座谈会", status=MeetingStatus.CANCELLED, invite=(cast.outsider,)
    )
    # An 审计管理员 with an old 回执 row (granted the role after being invited): still refused.
    Rsvp.objects.create(meeting=plain, user=cast.audit_admin)
    # A province-wide 会议管理员 sees every meeting and reads every material.
    everywhere = _person("province_meeting_admin", cast.office, "BGT0502")
    org.grant_role(actor=None, user=everywhere, role=Role.MEETING_ADMIN)
    meetings_list = [plain, delegated, agency_invited, of_finance, cancelled]
    for n, meeting in enumerate(meetings_list, start=1):
        _material(meeting, n)
    return meetings_list


def test_search_sees_exactly_the_meetings_visible_meetings_shows(meetings: MeetingsCast) -> None:
    varied = varied_meetings(meetings)
    docs, _ = MeetingSource().build([f"meeting:{x.pk}" for x in varied])
    assert len(docs) == len(varied)

    seen, hidden = set(), set()
    for user in User.objects.order_by("pk"):
        mine = search_principals_of(user)
        visible = set(visible_meetings(user).values_list("pk", flat=True))
        for doc in docs:
            pk = int(doc.key.split(":")[1])
            assert visible_with_floors(mine, doc.principals) == (pk in visible), (user.username, doc.key)
            (seen if pk in visible else hidden).add(doc.key)
    assert seen == hidden == {d.key for d in docs}


def test_search_sees_exactly_the_materials_material_meetings_allows(meetings: MeetingsCast) -> None:
    varied_meetings(meetings)
    materials = list(Material.objects.order_by("pk"))
    docs, _ = MaterialSource().build([f"material:{x.pk}" for x in materials])
    meeting_of = {f"material:{x.pk}": x.meeting_id for x in materials}
    assert len(docs) == len(materials)

    for user in User.objects.order_by("pk"):
        mine = search_principals_of(user)
        reads = set(material_meetings(user).values_list("pk", flat=True))
        for doc in docs:
            expected = meeting_of[doc.key] in reads
            assert visible_with_floors(mine, doc.principals) == expected, (user.username, doc.key)


def test_the_clerk_delegator_and_removed_see_the_meeting_but_not_its_materials(
    meetings: MeetingsCast,
) -> None:
    m = meetings
    plain, delegated, agency_invited, *_ = varied_meetings(m)
    clerk = search_principals_of(m.finance_clerk)
    assert visible_with_floors(clerk, meeting_principals(agency_invited))
    assert not visible_with_floors(clerk, material_principals(agency_invited))
    for person in (m.participant, m.colleague):  # handed the seat on; removed from the room
        mine = search_principals_of(person)
        assert visible_with_floors(mine, meeting_principals(delegated))
        assert not visible_with_floors(mine, material_principals(delegated))
    stand_in = User.objects.get(username="stand_in")
    assert visible_with_floors(search_principals_of(stand_in), material_principals(delegated))


def test_people_are_meeting_principals_of_their_own(meetings: MeetingsCast) -> None:
    """ "mtg-u:", not the common "u:": another app's "u:" of the 审计管理员 never opens a meeting."""
    m = meetings
    plain = make_meeting(m)
    Rsvp.objects.create(meeting=plain, user=m.audit_admin)
    assert f"mtg-u:{m.audit_admin.pk}" in meeting_principals(plain)
    assert not any(p.startswith("u:") for p in meeting_principals(plain) | material_principals(plain))
    assert search_principals_of(m.audit_admin) == {}
    assert search_principals_of(m.meeting_admin)[f"mtg-admin:{m.agency.pk}"] is None


def test_a_meeting_tomorrow_and_yesterday_share_the_rule(meetings: MeetingsCast) -> None:
    """Status and time play no part in who sees a meeting (an ended one is still found)."""
    m = meetings
    ended = make_meeting(m, starts_at=timezone.now() - timedelta(days=1), status=MeetingStatus.ENDED)
    assert visible_with_floors(search_principals_of(m.participant), meeting_principals(ended))
    assert visible_meetings(m.participant).filter(pk=ended.pk).exists()
