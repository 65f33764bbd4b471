"""The REST API of 督查督办 (mounted at /api/v1/supervision/, scope supervision.read).

Who sees what: a user token sees exactly the items of `access.visible_items(user)` (the pages'
rule) and, on an item, every report the item page shows; an app's own token sees
`access.items_for_app(app)` — items one of its data agencies supervises or is a unit of — and the
reports that have been signed off (not the drafts waiting for a unit head). A missing item and one
the caller may not see are the same 404.

The query helpers at the top (`query_date`, `query_datetime`, `query_choice`, `query_id`) are
shared with meetings/api.py: a bad filter is a 400 naming the parameter, never a 500.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.request import Request

from officeapp.integration.apiview import ApiView
from officeapp.integration.query_params import (
    choice_parameter,
    query_choice,
    query_date,
    query_datetime,
    query_id,
)
from officeapp.integration.rest import caller
from workflows import access
from workflows.models import (
    ItemState,
    Light,
    ProgressReport,
    ReportAttachment,
    ReportState,
    SupervisionItem,
    SupervisionSource,
    SupervisionUnit,
)
from workflows.serializers_api import ItemSerializer, ReportSerializer

SCOPE = "supervision.read"

# --- who sees which items ---------------------------------------------------------------------------


def _items_of(request: Request) -> QuerySet[SupervisionItem]:
    found = caller(request)
    if found.user is not None:
        return access.visible_items(found.user)
    return access.items_for_app(found.app)


def _item_or_404(request: Request, item_id: int) -> SupervisionItem:
    return get_object_or_404(_items_of(request), pk=item_id)


ITEM_RELATED = ("agency", "lead_department", "lead_agency", "supervisor")

ITEM_FILTERS = [
    choice_parameter("state", ItemState, "状态"),
    choice_parameter("light", Light, "红黄绿灯"),
    choice_parameter("source", SupervisionSource, "任务来源"),
    OpenApiParameter("lead_department", OpenApiTypes.INT, description="牵头单位（处室）编号"),
    OpenApiParameter("lead_agency", OpenApiTypes.INT, description="牵头单位（机关）编号"),
    OpenApiParameter("unit_agency", OpenApiTypes.INT, description="承办单位（牵头或协办）所在机关编号"),
    OpenApiParameter("due_before", OpenApiTypes.DATE, description="完成时限不晚于"),
    OpenApiParameter("due_after", OpenApiTypes.DATE, description="完成时限不早于"),
    OpenApiParameter("updated_since", OpenApiTypes.DATETIME, description="此时间（含）之后有变化的事项"),
]


class ItemList(ApiView, generics.ListAPIView):
    """督办事项 the caller may see, newest first (cursor pages)."""

    required_scopes = (SCOPE,)
    serializer_class = ItemSerializer

    def get_queryset(self) -> QuerySet[SupervisionItem]:
        request = self.request
        items = _items_of(request)
        if (state := query_choice(request, "state", ItemState)) is not None:
            items = items.filter(state=state)
        if (light := query_choice(request, "light", Light)) is not None:
            items = items.filter(light=light)
        if (source := query_choice(request, "source", SupervisionSource)) is not None:
            items = items.filter(source=source)
        if (department := query_id(request, "lead_department")) is not None:
            items = items.filter(lead_department_id=department)
        if (agency := query_id(request, "lead_agency")) is not None:
            items = items.filter(lead_agency_id=agency)
        if (unit_agency := query_id(request, "unit_agency")) is not None:
            units = SupervisionUnit.objects.filter(
                Q(agency_id=unit_agency) | Q(department__agency_id=unit_agency)
            ).values("item_id")
            items = items.filter(pk__in=units)
        if (before := query_date(request, "due_before")) is not None:
            items = items.filter(due_on__lte=before)
        if (after := query_date(request, "due_after")) is not None:
            items = items.filter(due_on__gte=after)
        if (since := query_datetime(request, "updated_since")) is not None:
            items = items.filter(updated_at__gte=since)
        return items.select_related(*ITEM_RELATED)

    @extend_schema(summary="督办事项列表", parameters=ITEM_FILTERS)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        return super().get(request, *args, **kwargs)


class ItemDetail(ApiView, generics.RetrieveAPIView):
    required_scopes = (SCOPE,)
    serializer_class = ItemSerializer
    lookup_url_kwarg = "item_id"

    def get_object(self) -> SupervisionItem:
        return get_object_or_404(
            _items_of(self.request).select_related(*ITEM_RELATED), pk=self.kwargs["item_id"]
        )

    @extend_schema(summary="督办事项详情")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        return super().get(request, *args, **kwargs)


class ReportList(ApiView, generics.ListAPIView):
    """The item's 进展反馈 and 办结报告, newest first. An app's own token sees the signed-off ones
    only (a draft waits for the unit head's 审签 and does not count yet)."""

    required_scopes = (SCOPE,)
    serializer_class = ReportSerializer

    def get_queryset(self) -> QuerySet[ProgressReport]:
        item = _item_or_404(self.request, self.kwargs["item_id"])
        reports = ProgressReport.objects.filter(item=item)
        if caller(self.request).user is None:
            reports = reports.exclude(state=ReportState.DRAFT)
        return reports.select_related("author", "signed_off_by").prefetch_related(
            Prefetch("attachments", queryset=ReportAttachment.objects.select_related("blob").order_by("pk"))
        )

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "for_user": caller(self.request).user is not None}

    @extend_schema(summary="督办事项的进展反馈")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        return super().get(request, *args, **kwargs)


urlpatterns = [
    path("items/", ItemList.as_view(), name="items"),
    path("items/<int:item_id>/", ItemDetail.as_view(), name="item"),
    path("items/<int:item_id>/reports/", ReportList.as_view(), name="reports"),
]
