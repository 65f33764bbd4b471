"""签到 URLs (composed by meetings/urls.py)."""

from __future__ import annotations

from django.urls import URLPattern, path

from meetings.views import checkin

urlpatterns: list[URLPattern] = [
    path("m/<int:meeting_id>/checkin/door/", checkin.door, name="checkin_door"),
    path("m/<int:meeting_id>/checkin/manual/", checkin.manual, name="checkin_manual"),
    path("m/<int:meeting_id>/checkin/<str:token>/", checkin.scan, name="checkin"),
]
