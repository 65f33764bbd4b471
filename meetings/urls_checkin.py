"""签到 URLs (composed by meetings/urls.py)."""

from __future__ import annotations

from django.urls import URLPattern, path

from meetings.views import checkin

urlpatterns: list[URLPattern] = [
    path("<int:meeting_id>/checkin/door/", checkin.door, name="checkin_door"),
    path("<int:meeting_id>/checkin/manual/", checkin.manual, name="checkin_manual"),
    path("<int:meeting_id>/checkin/<str:token>/", checkin.scan, name="checkin"),
]
