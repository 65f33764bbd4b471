"""Meetings URLs of one area (composed by meetings/urls.py): 我的会议, the meeting form and page,
invitees, the notice, 回执, the clerk's choice, reminders, cancelling, statistics and export."""

from __future__ import annotations

from django.urls import URLPattern, path

from meetings.views import meetings as views

urlpatterns: list[URLPattern] = [
    path("", views.index, name="index"),
    path("new/", views.new, name="new"),
    path("m/<int:meeting_id>/", views.detail, name="detail"),
    path("m/<int:meeting_id>/edit/", views.edit, name="edit"),
    path("m/<int:meeting_id>/invitees/", views.invitees, name="invitees"),
    path("m/<int:meeting_id>/notice/", views.send_notice, name="send_notice"),
    path("m/<int:meeting_id>/reply/", views.reply, name="reply"),
    path("m/<int:meeting_id>/remind/", views.remind, name="remind"),
    path("m/<int:meeting_id>/cancel/", views.cancel, name="cancel"),
    path("m/<int:meeting_id>/stats/", views.stats, name="stats"),
    path("m/<int:meeting_id>/attendance.xlsx", views.export_attendance, name="export_attendance"),
    path("choose/<int:invitee_id>/", views.choose, name="choose"),
]
