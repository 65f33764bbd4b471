"""The REST API of meetings (mounted at /api/v1/meetings/, scope meetings.read).

Who sees what — the pages' rules:
- a user token: the meetings of `access.visible_meetings(user)`; on one meeting its materials when
  the user reads them on the page (`access.material_meetings`), the user's own 回执, and the 回执
  counts when the user manages the meeting (`access.can_manage_meeting`: organiser, 会议管理员);
- an app's own token: `access.meetings_for_app(app)` — meetings one of its data agencies organises
  or is invited to as an agency, never a draft; the organising agency's app also gets the materials
  (names) and the 回执 counts, an invited agency's app neither (its 收发员 chooses who attends but
  does not read the papers).
A missing meeting and one the caller may not see are the same 404.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.request import Request

from meetings import access
from meetings.models import AgendaItem, Meeting, MeetingKind, MeetingStatus
from meetings.serializers_api import MeetingDetailSerializer, MeetingSerializer
from meetings.stats import stats_for
from officeapp.integration.apiview import ApiView
from officeapp.integration.query_params import choice_parameter, query_choice, query_date, query_datetime
from officeapp.integration.rest import caller

SCOPE = "meetings.read"
MEETING_RELATED = ("agency", "booking__room", "host", "organiser")


def _meetings_of(request: Request) -> QuerySet[Meeting]:
    found = caller(request)
    if found.user is not None:
        return access.visible_meetings(found.user)
    return access.meetings_for_app(found.app)


def _start_of(day: Any) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class MeetingList(ApiView, generics.ListAPIView):
    """Meetings the caller may see, newest first (cursor pages)."""

    required_scopes = (SCOPE,)
    serializer_class = MeetingSerializer

    def get_queryset(self) -> QuerySet[Meeting]:
        request = self.request
        meetings = _meetings_of(request)
        if (start := query_date(request, "from")) is not None:
            meetings = meetings.filter(starts_at__gte=_start_of(start))
        if (end := query_date(request, "to")) is not None:
            meetings = meetings.filter(starts_at__lt=_start_of(end + timedelta(days=1)))
        if (kind := query_choice(request, "kind", MeetingKind)) is not None:
            meetings = meetings.filter(kind=kind)
        if (status := query_choice(request, "status", MeetingStatus)) is not None:
            meetings = meetings.filter(status=status)
        if (since := query_datetime(request, "updated_since")) is not None:
            meetings = meetings.filter(updated_at__gte=since)
        return meetings.select_related(*MEETING_RELATED)

    @extend_schema(
        summary="会议列表",
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="开始日期不早于"),
            OpenApiParameter("to", OpenApiTypes.DATE, description="开始日期不晚于"),
            choice_parameter("kind", MeetingKind, "会议类型"),
            choice_parameter("status", MeetingStatus, "状态"),
            OpenApiParameter(
                "updated_since", OpenApiTypes.DATETIME, description="此时间（含）之后有变化的会议"
            ),
        ],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        return super().get(request, *args, **kwargs)


class MeetingDetail(ApiView, generics.RetrieveAPIView):
    required_scopes = (SCOPE,)
    serializer_class = MeetingDetailSerializer

    def get_object(self) -> Meeting:
        found = caller(self.request)
        meeting = get_object_or_404(
            _meetings_of(self.request).select_related(*MEETING_RELATED), pk=self.kwargs["meeting_id"]
        )
        if found.user is not None:
            user = found.user
            reads_materials = access.material_meetings(user).filter(pk=meeting.pk).exists()
            manages = access.can_manage_meeting(user, meeting)
            meeting.api_rsvp = access.rsvp_of(user, meeting)  # type: ignore[attr-defined]
        else:
            # The organising agency's app reads as the agency's meeting office; an invited one as
            # its 收发员, who chooses attendees but does not read the papers.
            reads_materials = manages = meeting.agency_id in found.app.reading_agency_ids()
            meeting.api_rsvp = None  # type: ignore[attr-defined]
        meeting.api_agenda = list(  # type: ignore[attr-defined]
            AgendaItem.objects.filter(meeting=meeting).select_related("presenter").order_by("order")
        )
        meeting.api_materials = (  # type: ignore[attr-defined]
            list(meeting.materials.select_related("agenda_item").order_by("pk")) if reads_materials else None
        )
        meeting.api_counts = stats_for(meeting) if manages else None  # type: ignore[attr-defined]
        return meeting

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "for_user": caller(self.request).user is not None}

    @extend_schema(summary="会议详情")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        return super().get(request, *args, **kwargs)


urlpatterns = [
    path("", MeetingList.as_view(), name="api_meetings"),
    path("<int:meeting_id>/", MeetingDetail.as_view(), name="api_meeting"),
]
