"""Meetings URLs (namespace "meetings", mounted at /meetings/). Each area keeps its own list in
urls_<area>.py so that its views, templates and tests stay together."""

from __future__ import annotations

from django.urls import URLPattern

from meetings import urls_checkin, urls_live, urls_meetings, urls_minutes, urls_rooms

app_name = "meetings"

urlpatterns: list[URLPattern] = [
    *urls_meetings.urlpatterns,
    *urls_rooms.urlpatterns,
    *urls_checkin.urlpatterns,
    *urls_minutes.urlpatterns,
    *urls_live.urlpatterns,
]
