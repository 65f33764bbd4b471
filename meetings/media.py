"""Audio and video of the live room go through an external media server, Jitsi or LiveKit (the one
module that knows them). The platform keeps the integration settings (MediaSettings, one row, kept
by the 系统管理员 on the page meetings:media_settings) and gives each participant a signed join
token (JWT, HS256, signed with the settings' secret) and a join link; the media server checks the
token itself, so nothing of ours is called at join time and nothing here opens a connection.

LiveKit (livekit-server with `keys: {<API key>: <API secret>}`):
    claims  iss = API key, sub = the user's identity ("user-<id>"), name, nbf, exp,
            video = {room, roomJoin: true, canSubscribe: true,
                     canPublish: false for a non-host while the host has muted everyone}
    link    <服务地址>/custom?liveKitUrl=<服务地址 as wss://>&token=<JWT>
            (服务地址 is where the deployment serves the LiveKit Meet web client in front of its
            livekit-server; the same address, as wss://, is the server's signalling URL)
Jitsi Meet (prosody with token authentication: `app_id`/`app_secret`, `allow_empty_token = false`):
    claims  aud = iss = app id, sub = the server's domain, room, nbf, exp,
            context.user = {id, name, moderator}, moderator (true for the host and organiser)
    link    <服务地址>/<room>?jwt=<JWT>

The room of a meeting is "oa-meeting-<id>" on both. A token lives MediaSettings.token_minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import jwt
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from meetings import access
from meetings.errors import MeetingError
from meetings.models import MediaSettings, Meeting
from officeapp.access import NOT_FOUND_MESSAGE, is_system_admin
from officeapp.audit.services import record

ALGORITHM = "HS256"
# HS256 keys shorter than this are guessable offline from any token a participant holds.
SECRET_MIN_CHARS = 32
TOKEN_MINUTES_MAX = 24 * 60


@dataclass(frozen=True)
class MediaJoin:
    provider: str
    provider_label: str
    room: str
    token: str
    link: str


def current_settings() -> MediaSettings | None:
    return MediaSettings.objects.order_by("pk").first()


def is_configured(settings: MediaSettings | None) -> bool:
    return bool(
        settings is not None
        and settings.provider
        and settings.server_url
        and settings.app_id
        and settings.app_secret
    )


def room_name(meeting: Meeting) -> str:
    return f"oa-meeting-{meeting.pk}"


def masked_secret(secret: str) -> str:
    """What the settings page shows of a stored secret: never more than its last four characters."""
    if not secret:
        return ""
    return "已设置（末四位 " + secret[-4:] + "）" if len(secret) >= 16 else "已设置"


def livekit_token(
    settings: MediaSettings, *, room: str, user: Any, host: bool, muted_all: bool, now: Any = None
) -> str:
    issued = now or timezone.now()
    claims = {
        "iss": settings.app_id,
        "sub": f"user-{user.pk}",
        "name": str(user),
        "nbf": int(issued.timestamp()) - 10,
        "exp": int((issued + timedelta(minutes=settings.token_minutes)).timestamp()),
        "video": {
            "room": room,
            "roomJoin": True,
            "canSubscribe": True,
            # The host's mute-all holds in the media server too, for whoever joins while it is on.
            "canPublish": bool(host or not muted_all),
        },
    }
    return jwt.encode(claims, settings.app_secret, algorithm=ALGORITHM)


def jitsi_token(settings: MediaSettings, *, room: str, user: Any, host: bool, now: Any = None) -> str:
    issued = now or timezone.now()
    claims = {
        "aud": settings.app_id,
        "iss": settings.app_id,
        "sub": urlsplit(settings.server_url).hostname or "",
        "room": room,
        "nbf": int(issued.timestamp()) - 10,
        "exp": int((issued + timedelta(minutes=settings.token_minutes)).timestamp()),
        "context": {"user": {"id": f"user-{user.pk}", "name": str(user), "moderator": bool(host)}},
        "moderator": bool(host),
    }
    return jwt.encode(claims, settings.app_secret, algorithm=ALGORITHM)


def join_for(meeting: Meeting, user: Any) -> MediaJoin | None:
    """The user's signed join token and link, or None when no media server is configured.
    Only for those who may enter the room (re-checked here)."""
    settings = current_settings()
    if not is_configured(settings) or not access.may_enter_room(user, meeting):
        return None
    assert settings is not None
    room = room_name(meeting)
    host = access.can_host(user, meeting)
    base = settings.server_url.rstrip("/")
    if settings.provider == MediaSettings.Provider.LIVEKIT:
        token = livekit_token(settings, room=room, user=user, host=host, muted_all=meeting.muted_all)
        signalling = "wss://" + base.split("://", 1)[-1] if base.startswith("https://") else base
        link = f"{base}/custom?" + urlencode({"liveKitUrl": signalling, "token": token})
    else:
        token = jitsi_token(settings, room=room, user=user, host=host)
        link = f"{base}/{quote(room)}?" + urlencode({"jwt": token})
    return MediaJoin(
        provider=settings.provider,
        provider_label=settings.get_provider_display(),
        room=room,
        token=token,
        link=link,
    )


# --- the settings (系统管理员) ----------------------------------------------------------------------


def may_configure(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.is_active and is_system_admin(user)


def save_media_settings(
    *,
    actor: Any,
    provider: str,
    server_url: str,
    app_id: str,
    app_secret: str,
    token_minutes: int,
) -> MediaSettings:
    """Store the media server's settings. An empty `app_secret` keeps the stored one (the page never
    shows it back). The audit event names the provider and whether the secret changed, never it."""
    if not may_configure(actor):
        raise Http404(NOT_FOUND_MESSAGE)
    if provider not in MediaSettings.Provider.values:
        raise MeetingError("请选择音视频服务类型。")
    if not 1 <= token_minutes <= TOKEN_MINUTES_MAX:
        raise MeetingError(f"令牌有效期应在 1 到 {TOKEN_MINUTES_MAX} 分钟之间。")
    with transaction.atomic():
        row = MediaSettings.objects.select_for_update().order_by("pk").first() or MediaSettings()
        secret = app_secret or row.app_secret
        if provider:
            if not server_url.startswith("https://"):
                raise MeetingError("服务地址必须以 https:// 开头。")
            if not app_id:
                raise MeetingError("请填写应用标识（API Key / App ID）。")
            if len(secret) < SECRET_MIN_CHARS:
                raise MeetingError(f"应用密钥至少 {SECRET_MIN_CHARS} 个字符。")
        changed_secret = bool(app_secret) and app_secret != row.app_secret
        row.provider = provider
        row.server_url = server_url
        row.app_id = app_id
        row.app_secret = secret
        row.token_minutes = token_minutes
        row.updated_at = timezone.now()
        row.updated_by = actor
        row.save()
        record(
            "meetings.media.update",
            actor=actor,
            obj=row,
            details={"provider": provider, "secret_changed": changed_secret},
        )
        return row
