"""The live meeting room's page (its state arrives over the socket, meetings.live) and the media
server's settings page of the 系统管理员."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_http_methods

from meetings import access, live_services, media
from meetings.errors import MeetingError
from meetings.models import AgendaItem, Material, MediaSettings


def _material_url() -> str:
    """The material preview URL with 0 for the id (helper C's view), or "" while it is not there."""
    try:
        return reverse("meetings:material", args=[0]) + "?preview=1"
    except NoReverseMatch:
        return ""


@require_GET
@login_required
def live(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = access.get_meeting_for(request.user, meeting_id)
    try:
        live_services.get_room_for(request.user, meeting.pk)
    except MeetingError as error:
        return render(
            request,
            "meetings/room.html",
            {"meeting": meeting, "closed_message": error.message, "page_title": f"会议室 · {meeting.title}"},
        )
    host = access.can_host(request.user, meeting)
    items = list(AgendaItem.objects.filter(meeting=meeting).order_by("order"))
    materials = list(Material.objects.filter(meeting=meeting).order_by("id"))
    config: dict[str, Any] = {
        "meeting": meeting.pk,
        "me": request.user.pk,
        "host": host,
        "material_url": _material_url(),
        "agenda": [{"id": i.pk, "title": f"{i.order}. {i.title}"} for i in items],
        "materials": [
            {"id": m.pk, "title": m.title, "pages": m.page_count, "agenda_item": m.agenda_item_id}
            for m in materials
        ],
        "chat_max": live_services.CHAT_MAX_CHARS,
    }
    return render(
        request,
        "meetings/room.html",
        {
            "meeting": meeting,
            "host": host,
            "config": config,
            "media_join": media.join_for(meeting, request.user),
            "items": items,
            "materials": materials,
            "page_title": f"会议室 · {meeting.title}",
        },
    )


class MediaSettingsForm(forms.Form):
    provider = forms.ChoiceField(label="服务类型", choices=MediaSettings.Provider.choices, required=False)
    server_url = forms.URLField(label="服务地址", required=False, max_length=200, assume_scheme="https")
    app_id = forms.CharField(label="应用标识（API Key / App ID）", required=False, max_length=120)
    app_secret = forms.CharField(
        label="应用密钥",
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="留空则保留已保存的密钥。",
    )
    token_minutes = forms.IntegerField(
        label="令牌有效期（分钟）", min_value=1, max_value=media.TOKEN_MINUTES_MAX
    )


@require_http_methods(["GET", "POST"])
@login_required
def media_settings(request: HttpRequest) -> HttpResponse:
    if not media.may_configure(request.user):
        raise PermissionDenied("只有系统管理员可以设置音视频服务。")
    current = media.current_settings()
    initial = {
        "provider": current.provider if current else "",
        "server_url": current.server_url if current else "",
        "app_id": current.app_id if current else "",
        "token_minutes": current.token_minutes if current else 240,
    }
    form = MediaSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            media.save_media_settings(
                actor=request.user,
                provider=data["provider"],
                server_url=data["server_url"],
                app_id=data["app_id"].strip(),
                app_secret=data["app_secret"],
                token_minutes=data["token_minutes"],
            )
        except MeetingError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "音视频服务设置已保存。")
            return redirect("meetings:media_settings")
    return render(
        request,
        "meetings/media_settings.html",
        {
            "form": form,
            "secret_hint": media.masked_secret(current.app_secret) if current else "",
            "page_title": "音视频服务设置",
        },
    )
