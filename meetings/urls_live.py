"""Meetings URLs of the live room (composed by meetings/urls.py)."""

from __future__ import annotations

from django.urls import URLPattern, path

from meetings.views import live

urlpatterns: list[URLPattern] = [
    path("m/<int:meeting_id>/live/", live.live, name="live"),
    path("media/settings/", live.media_settings, name="media_settings"),
]
