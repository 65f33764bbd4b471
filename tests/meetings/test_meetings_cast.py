from __future__ import annotations

from meetings import access
from tests.meetings.meetings_cast import MeetingsCast


def test_the_audit_administrator_never_uses_meetings_and_the_others_may(meetings: MeetingsCast) -> None:
    assert not access.may_use_meetings(meetings.audit_admin)
    people = [
        meetings.organiser,
        meetings.host,
        meetings.participant,
        meetings.finance_clerk,
        meetings.outsider,
    ]
    assert all(access.may_use_meetings(person) for person in people)


def test_rooms_are_seen_by_their_agency_and_managed_by_the_meeting_admin(meetings: MeetingsCast) -> None:
    assert set(access.visible_rooms(meetings.participant)) == {meetings.big_room, meetings.vip_room}
    assert set(access.visible_rooms(meetings.finance_staff)) == {meetings.finance_room}
    assert access.can_manage_room(meetings.meeting_admin, meetings.vip_room)
    assert not access.can_manage_room(meetings.participant, meetings.vip_room)
    assert access.can_book(meetings.participant, meetings.big_room)
    assert not access.can_book(meetings.outsider, meetings.big_room)


def test_a_province_wide_meeting_admin_sees_and_manages_every_agencys_rooms(meetings: MeetingsCast) -> None:
    from officeapp.org import services
    from officeapp.org.models import Role

    services.grant_role(actor=None, user=meetings.outsider, role=Role.MEETING_ADMIN)

    assert meetings.finance_room in access.visible_rooms(meetings.outsider)
    assert access.get_room_for(meetings.outsider, meetings.finance_room.pk) == meetings.finance_room
    assert access.can_manage_room(meetings.outsider, meetings.finance_room)
