"""The media server integration: each participant's join token (decoded here with the stored
secret, as LiveKit or Jitsi would check it) and the 系统管理员's settings page, whose secret is never
shown back."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from django.urls import reverse

from meetings import media
from meetings.models import MediaSettings, MeetingStatus, Rsvp
from officeapp.audit.models import AuditEvent
from tests.meetings.factories_live import make_live_meeting

pytestmark = pytest.mark.django_db

SECRET = "s3cr3t-" + "k" * 40


def configure(provider: str) -> MediaSettings:
    return MediaSettings.objects.create(
        provider=provider,
        server_url="https://media.gd.example",
        app_id="officeapp",
        app_secret=SECRET,
        token_minutes=120,
    )


def decode(token: str, **options: Any) -> dict[str, Any]:
    return jwt.decode(token, SECRET, algorithms=["HS256"], **options)


def test_livekit_token_lets_a_participant_join_the_meetings_room_only(meetings):
    configure(MediaSettings.Provider.LIVEKIT)
    room = make_live_meeting(meetings)

    join = media.join_for(room.meeting, meetings.participant)

    claims = decode(join.token)
    assert claims["iss"] == "officeapp" and claims["sub"] == f"user-{meetings.participant.pk}"
    assert claims["name"] == "林小梅"
    assert claims["video"] == {
        "room": f"oa-meeting-{room.meeting.pk}",
        "roomJoin": True,
        "canSubscribe": True,
        "canPublish": True,
    }
    assert 119 * 60 <= claims["exp"] - claims["nbf"] <= 121 * 60
    assert join.link.startswith(
        "https://media.gd.example/custom?liveKitUrl=wss%3A%2F%2Fmedia.gd.example&token="
    )
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(join.token, "another-secret-" + "x" * 40, algorithms=["HS256"])


def test_livekit_token_cannot_publish_while_the_host_has_muted_everyone_but_the_host_can(meetings):
    configure(MediaSettings.Provider.LIVEKIT)
    room = make_live_meeting(meetings)
    room.meeting.muted_all = True
    room.meeting.save()

    assert decode(media.join_for(room.meeting, meetings.participant).token)["video"]["canPublish"] is False
    assert decode(media.join_for(room.meeting, meetings.host).token)["video"]["canPublish"] is True


def test_jitsi_token_names_the_room_and_makes_only_the_host_moderator(meetings):
    configure(MediaSettings.Provider.JITSI)
    room = make_live_meeting(meetings)

    host = decode(media.join_for(room.meeting, meetings.host).token, audience="officeapp")
    guest_join = media.join_for(room.meeting, meetings.colleague)
    guest = decode(guest_join.token, audience="officeapp")

    assert host["iss"] == "officeapp" and host["sub"] == "media.gd.example"
    assert host["room"] == f"oa-meeting-{room.meeting.pk}"
    assert host["context"]["user"] == {"id": f"user-{meetings.host.pk}", "name": "王德明", "moderator": True}
    assert host["moderator"] is True and guest["moderator"] is False
    assert guest["context"]["user"]["name"] == "陈志强"
    assert guest_join.link.startswith(f"https://media.gd.example/oa-meeting-{room.meeting.pk}?jwt=")


def test_no_token_without_settings_for_outsiders_removed_people_or_a_draft(meetings):
    room = make_live_meeting(meetings)
    assert media.join_for(room.meeting, meetings.participant) is None  # not configured
    configure(MediaSettings.Provider.JITSI)
    assert media.join_for(room.meeting, meetings.outsider) is None
    Rsvp.objects.filter(meeting=room.meeting, user=meetings.colleague).update(
        removed_at=room.meeting.starts_at
    )
    assert media.join_for(room.meeting, meetings.colleague) is None
    draft = make_live_meeting(meetings, status=MeetingStatus.DRAFT)
    assert media.join_for(draft.meeting, meetings.participant) is None


# --- the settings page ---------------------------------------------------------------------------------


def form(**changes: Any) -> dict[str, Any]:
    data = {
        "provider": "livekit",
        "server_url": "https://media.gd.example",
        "app_id": "APIkey1",
        "app_secret": SECRET,
        "token_minutes": "240",
    }
    data.update(changes)
    return data


def test_system_admin_saves_settings_and_the_secret_is_never_shown_back(meetings, sign_in_verified):
    client = sign_in_verified(meetings.cast.system_admin)
    url = reverse("meetings:media_settings")

    response = client.post(url, form())
    assert response.status_code == 302
    row = MediaSettings.objects.get()
    assert (row.provider, row.app_id, row.app_secret) == ("livekit", "APIkey1", SECRET)

    page = client.get(url).content.decode()
    assert SECRET not in page and SECRET[:-4] not in page
    assert "末四位 " + SECRET[-4:] in page

    # Saved again without typing the secret: the stored one is kept.
    client.post(url, form(app_id="APIkey2", app_secret=""))
    row.refresh_from_db()
    assert (row.app_id, row.app_secret) == ("APIkey2", SECRET)
    details = list(
        AuditEvent.objects.filter(action="meetings.media.update")
        .order_by("id")
        .values_list("details", flat=True)
    )
    assert [d["secret_changed"] for d in details] == [True, False]
    assert all(SECRET not in str(d) for d in details)


def test_bad_settings_are_refused_in_chinese_and_keep_what_was_typed(meetings, sign_in_verified):
    client = sign_in_verified(meetings.cast.system_admin)
    url = reverse("meetings:media_settings")

    response = client.post(url, form(server_url="http://media.gd.example"))
    page = response.content.decode()
    assert response.status_code == 200 and "服务地址必须以 https:// 开头。" in page
    assert 'value="APIkey1"' in page
    response = client.post(url, form(app_secret="short"))
    assert "应用密钥至少 32 个字符。" in response.content.decode()
    response = client.post(url, form(token_minutes="0"))
    assert response.status_code == 200
    assert not MediaSettings.objects.exists()


def test_only_the_system_admin_sees_the_settings_page(meetings, sign_in):
    url = reverse("meetings:media_settings")
    for person in (meetings.organiser, meetings.meeting_admin, meetings.outsider):
        assert sign_in(person).get(url).status_code == 403
        assert sign_in(person).post(url, form()).status_code == 403
    assert not MediaSettings.objects.exists()
