"""Meetings URLs of the rooms area: rooms, bookings and their approval, calendars, ICS (composed by
meetings/urls.py). The feed URL carries its secret token and needs no session."""

from __future__ import annotations

from django.urls import URLPattern, path

from meetings.views import calendar, rooms

urlpatterns: list[URLPattern] = [
    path("rooms/", rooms.rooms, name="rooms"),
    path("rooms/new/", rooms.room_new, name="room_new"),
    path("rooms/<int:room_id>/", rooms.room, name="room"),
    path("rooms/<int:room_id>/edit/", rooms.room_edit, name="room_edit"),
    path("rooms/<int:room_id>/calendar/", calendar.room_calendar, name="room_calendar"),
    path("bookings/", rooms.bookings, name="bookings"),
    path("bookings/<int:booking_id>/decide/", rooms.booking_decide, name="booking_decide"),
    path("bookings/<int:booking_id>/cancel/", rooms.booking_cancel, name="booking_cancel"),
    path("calendar/", calendar.my_calendar, name="my_calendar"),
    path("calendar/meeting/<int:meeting_id>.ics", calendar.meeting_ics, name="meeting_ics"),
    path("calendar/feed/", calendar.feed_settings, name="feed_settings"),
    path("feed/<str:token>.ics", calendar.feed, name="feed"),
]
