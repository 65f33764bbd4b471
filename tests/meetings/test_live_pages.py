"""The live room page and the meeting page's "进入会议室" part: who gets the room, who gets a
Chinese reason, who gets 404; user text is escaped."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from meetings.models import MediaSettings, Meeting, MeetingStatus, Rsvp
from tests.meetings.factories_live import make_live_meeting

pytestmark = pytest.mark.django_db


def test_participant_gets_the_room_with_its_controls_and_a_media_link(meetings, sign_in):
    room = make_live_meeting(meetings)
    MediaSettings.objects.create(
        provider="jitsi", server_url="https://meet.gd.example", app_id="oa", app_secret="x" * 40
    )
    page = (
        sign_in(meetings.participant).get(reverse("meetings:live", args=[room.meeting.pk])).content.decode()
    )
    assert "举手发言" in page and "会中交流" in page and "赞成" in page
    assert "加入音视频（Jitsi）" in page and "https://meet.gd.example/oa-meeting-" in page
    assert "发起表决" not in page and "结束会议" not in page  # host controls only for the host
    assert '"host": false' in page and "meetings/room.js" in page


def test_host_gets_the_hosts_controls(meetings, sign_in):
    room = make_live_meeting(meetings)
    page = sign_in(meetings.host).get(reverse("meetings:live", args=[room.meeting.pk])).content.decode()
    assert "发起表决" in page and "结束会议" in page and "全体静音" in page
    assert "一季度工作情况通报" in page  # the agenda to turn to
    assert "音视频服务尚未配置" in page


def test_outsider_and_missing_meeting_get_404(meetings, sign_in):
    room = make_live_meeting(meetings)
    client = sign_in(meetings.outsider)
    assert client.get(reverse("meetings:live", args=[room.meeting.pk])).status_code == 404
    assert sign_in(meetings.participant).get(reverse("meetings:live", args=[999999])).status_code == 404


def test_removed_participant_sees_why_instead_of_the_room(meetings, sign_in):
    room = make_live_meeting(meetings)
    Rsvp.objects.filter(meeting=room.meeting, user=meetings.colleague).update(removed_at=timezone.now())
    response = sign_in(meetings.colleague).get(reverse("meetings:live", args=[room.meeting.pk]))
    page = response.content.decode()
    assert response.status_code == 200 and "您已被主持人移出会议室，不能再次进入。" in page
    assert "room.js" not in page


def test_ended_meeting_says_so(meetings, sign_in):
    room = make_live_meeting(meetings, status=MeetingStatus.ENDED)
    page = (
        sign_in(meetings.participant).get(reverse("meetings:live", args=[room.meeting.pk])).content.decode()
    )
    assert "会议已结束。" in page


def test_meeting_title_is_escaped_on_the_room_page(meetings, sign_in):
    room = make_live_meeting(meetings)
    Meeting.objects.filter(pk=room.meeting.pk).update(title="<script>alert(1)</script>")
    page = (
        sign_in(meetings.participant).get(reverse("meetings:live", args=[room.meeting.pk])).content.decode()
    )
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_detail_part_offers_the_room_to_participants_only(meetings):
    room = make_live_meeting(meetings)
    meeting = room.meeting
    rsvp = Rsvp.objects.get(meeting=meeting, user=meetings.participant)
    context = {"meeting": meeting, "can_manage": False, "rsvp": rsvp, "user": meetings.participant}
    assert "进入会议室" in render_to_string("meetings/_detail_live.html", context)
    context_host = {"meeting": meeting, "can_manage": False, "rsvp": None, "user": meetings.host}
    assert "进入会议室" in render_to_string("meetings/_detail_live.html", context_host)
    context_admin = {"meeting": meeting, "can_manage": True, "rsvp": None, "user": meetings.meeting_admin}
    assert "进入会议室" not in render_to_string("meetings/_detail_live.html", context_admin)  # not invited
    rsvp.removed_at = timezone.now()
    assert "不能再次进入" in render_to_string("meetings/_detail_live.html", context)
    meeting.status = MeetingStatus.DRAFT
    context_draft = {"meeting": meeting, "can_manage": True, "rsvp": None, "user": meetings.organiser}
    assert "进入会议室" not in render_to_string("meetings/_detail_live.html", context_draft)
