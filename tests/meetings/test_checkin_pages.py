"""签到 pages: the door's QR code and live count for the organiser, the phone's one-button page,
the sign-in detour, 代为签到, and a 404/403 for everyone who should not see them."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings.models import CheckinMethod, MeetingStatus, Reply, Rsvp
from tests.meetings.factories_c import make_meeting, set_reply
from tests.meetings.meetings_cast import MeetingsCast

pytestmark = pytest.mark.django_db


def door_url(meeting: Any) -> str:
    return reverse("meetings:checkin_door", args=[meeting.pk])


def scan_url(meeting: Any, token: str | None = None) -> str:
    return reverse("meetings:checkin", args=[meeting.pk, token or meeting.checkin_token])


def test_door_page_shows_the_qr_code_of_the_check_in_url_and_the_count(
    meetings: MeetingsCast, sign_in: Any
) -> None:
    meeting = make_meeting(meetings)
    set_reply(meeting, meetings.colleague, Reply.LEAVE, reason="出差")
    client = sign_in(meetings.organiser)
    response = client.get(door_url(meeting))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in html and 'class="segno"' in html
    assert f"http://testserver{scan_url(meeting)}" in html
    assert "已签到 <strong data-checked-in>0</strong> / 应到 <strong data-expected>1</strong>" in html
    assert "林小梅" in html and "代为签到" in html


def test_door_page_is_403_for_a_participant_and_404_for_an_outsider(
    meetings: MeetingsCast, sign_in: Any
) -> None:
    meeting = make_meeting(meetings)
    assert sign_in(meetings.participant).get(door_url(meeting)).status_code == 403
    assert sign_in(meetings.outsider).get(door_url(meeting)).status_code == 404


def test_scanning_while_signed_out_leads_to_sign_in_and_back(meetings: MeetingsCast, client: Any) -> None:
    meeting = make_meeting(meetings)
    response = client.get(scan_url(meeting))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:sign_in"))
    assert (
        quote(scan_url(meeting), safe="") in response["Location"] or scan_url(meeting) in response["Location"]
    )


def test_get_shows_one_button_and_checks_nobody_in(meetings: MeetingsCast, sign_in: Any) -> None:
    meeting = make_meeting(meetings)
    response = sign_in(meetings.participant).get(scan_url(meeting))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="checkin-button">签到</button>' in html and "csrfmiddlewaretoken" in html
    assert Rsvp.objects.get(meeting=meeting, user=meetings.participant).checked_in_at is None


def test_pressing_the_button_checks_the_participant_in(meetings: MeetingsCast, sign_in: Any) -> None:
    meeting = make_meeting(meetings)
    response = sign_in(meetings.participant).post(scan_url(meeting))
    assert response.status_code == 200
    assert "签到成功" in response.content.decode()
    rsvp = Rsvp.objects.get(meeting=meeting, user=meetings.participant)
    assert rsvp.checkin_method == CheckinMethod.QR


def test_the_check_in_post_needs_the_csrf_token(meetings: MeetingsCast, sign_in: Any) -> None:
    from django.test import Client

    meeting = make_meeting(meetings)
    client = Client(enforce_csrf_checks=True)
    client.force_login(meetings.participant, backend="officeapp.accounts.backends.LockoutAwareBackend")
    assert client.post(scan_url(meeting)).status_code == 403
    assert Rsvp.objects.get(meeting=meeting, user=meetings.participant).checked_in_at is None


def test_scanning_twice_says_when_the_first_was(meetings: MeetingsCast, sign_in: Any) -> None:
    meeting = make_meeting(meetings)
    client = sign_in(meetings.participant)
    client.post(scan_url(meeting))
    at = Rsvp.objects.get(meeting=meeting, user=meetings.participant).checked_in_at
    again = client.get(scan_url(meeting))
    assert f"您已于 {timezone.localtime(at):%H:%M} 签到" in again.content.decode()
    assert "checkin-button" not in again.content.decode()
    assert client.post(scan_url(meeting)).status_code == 400


def test_a_person_not_invited_is_told_so(meetings: MeetingsCast, sign_in: Any) -> None:
    meeting = make_meeting(meetings)
    response = sign_in(meetings.outsider).post(scan_url(meeting))
    assert response.status_code == 400
    assert "您不在本次会议的参会名单中" in response.content.decode()
    assert not Rsvp.objects.filter(meeting=meeting, user=meetings.outsider).exists()


def test_a_wrong_token_shows_that_the_code_is_not_this_meetings(meetings: MeetingsCast, sign_in: Any) -> None:
    meeting = make_meeting(meetings)
    response = sign_in(meetings.participant).post(scan_url(meeting, token="x" * 32))
    assert response.status_code == 404
    assert "二维码与本会议不符" in response.content.decode()
    assert meeting.title not in response.content.decode()


def test_a_cancelled_meeting_page_says_so_without_a_button(meetings: MeetingsCast, sign_in: Any) -> None:
    meeting = make_meeting(meetings, status=MeetingStatus.CANCELLED)
    html = sign_in(meetings.participant).get(scan_url(meeting)).content.decode()
    assert "本次会议已取消，无需签到。" in html and "checkin-button" not in html


def test_manual_check_in_from_the_door_page(meetings: MeetingsCast, sign_in: Any) -> None:
    meeting = make_meeting(meetings)
    client = sign_in(meetings.organiser)
    response = client.post(
        reverse("meetings:checkin_manual", args=[meeting.pk]), {"user": meetings.participant.pk}, follow=True
    )
    assert response.status_code == 200
    assert "已为林小梅签到" in response.content.decode()
    assert Rsvp.objects.get(meeting=meeting, user=meetings.participant).checkin_method == CheckinMethod.MANUAL


def test_manual_check_in_of_a_stranger_re_renders_the_door_with_the_reason(
    meetings: MeetingsCast, sign_in: Any
) -> None:
    meeting = make_meeting(meetings)
    response = sign_in(meetings.organiser).post(
        reverse("meetings:checkin_manual", args=[meeting.pk]), {"user": meetings.outsider.pk}
    )
    assert response.status_code == 400
    assert "该人员不在本次会议的参会名单中。" in response.content.decode()


def test_manual_check_in_without_a_person_is_refused(meetings: MeetingsCast, sign_in: Any) -> None:
    meeting = make_meeting(meetings)
    response = sign_in(meetings.organiser).post(
        reverse("meetings:checkin_manual", args=[meeting.pk]), {"user": "x"}
    )
    assert response.status_code == 400 and "请选择要代为签到的人员。" in response.content.decode()


def test_a_participant_may_not_check_in_by_hand(meetings: MeetingsCast, sign_in: Any) -> None:
    meeting = make_meeting(meetings)
    response = sign_in(meetings.participant).post(
        reverse("meetings:checkin_manual", args=[meeting.pk]), {"user": meetings.colleague.pk}
    )
    assert response.status_code == 403
    assert Rsvp.objects.get(meeting=meeting, user=meetings.colleague).checked_in_at is None


def test_the_door_lists_part_shows_who_arrived(meetings: MeetingsCast, sign_in: Any) -> None:
    meeting = make_meeting(meetings)
    sign_in(meetings.participant).post(scan_url(meeting))
    response = sign_in(meetings.organiser).get(door_url(meeting) + "?part=lists")
    html = response.content.decode()
    assert f'data-arrived="{meetings.participant.pk}"' in html
    assert f'data-waiting="{meetings.colleague.pk}"' in html
    assert "<svg" not in html


def test_the_meeting_page_shows_the_door_link_to_the_organiser_only(
    meetings: MeetingsCast, sign_in: Any
) -> None:
    meeting = make_meeting(meetings)
    detail = reverse("meetings:detail", args=[meeting.pk])
    organiser_html = sign_in(meetings.organiser).get(detail).content.decode()
    assert (
        door_url(meeting) in organiser_html
        and "已签到 <strong>0</strong> / 应到 <strong>2</strong>" in organiser_html
    )
    sign_in(meetings.participant).post(scan_url(meeting))
    participant_html = sign_in(meetings.participant).get(detail).content.decode()
    assert door_url(meeting) not in participant_html
    assert "您已于" in participant_html and "扫码签到" in participant_html
