"""议程、材料与纪要 URLs (composed by meetings/urls.py)."""

from __future__ import annotations

from django.urls import URLPattern, path

from meetings.views import agenda, minutes

urlpatterns: list[URLPattern] = [
    path("m/<int:meeting_id>/agenda/", agenda.agenda_page, name="agenda"),
    path("materials/<int:material_id>/", agenda.material, name="material"),
    path("m/<int:meeting_id>/minutes/", minutes.minutes_page, name="minutes"),
]
