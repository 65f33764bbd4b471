"""The REST API of the 通讯录 (mounted at /api/v1/directory/, scope directory.read).

Who sees what — the 通讯录's own rules (officeapp.org.directory):
- a user token: every agency, department and active person of the province, as the 通讯录 page
  shows them to that user — contact fields only where the 安全管理员's field policy lets the user
  see them; the 审计管理员 does not use the 通讯录 (403, as on the page);
- an app's own token: the agencies in its data scope (its data agencies, else its owner agency), their
  departments and people, each person's fields as the policy shows them to someone of that person's
  own agency who is not in their department (本机关可见 shown, 本部门可见 and 不公开 not).
`q` searches as the 通讯录's search box does (name, 拼音, 首字母, phone where visible, department
name), best first, one page. `updated_since` lists what changed since then (from the org change
events, kept RETENTION_DAYS days; older asks for a full sync).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import BigIntegerField, Q, QuerySet
from django.db.models.functions import Cast
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics
from rest_framework.request import Request
from rest_framework.response import Response

from officeapp.integration.apiview import ApiView
from officeapp.integration.rest import Caller, caller
from officeapp.org import access, directory
from officeapp.org.models import Agency, Department, User
from officeapp.org.serializers_api import AgencySerializer, DepartmentSerializer, PersonSerializer
from officeapp.outbox.drain import RETENTION_DAYS
from officeapp.outbox.models import OutboxEvent

SCOPE = "directory.read"
SEARCH_PAGE_MAX = 50


def _who(request: Request) -> Caller:
    found = caller(request)
    if found.user is not None and not access.can_read_directory(found.user):
        raise PermissionDenied("审计管理员不使用通讯录。")
    return found


def _app_agencies(found: Caller) -> list[int] | None:
    """None: the whole province (a user token)."""
    if found.user is not None:
        return None
    agencies, _ = directory.directory_for_app(found.app)
    return agencies


def _query_id(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise exceptions.ValidationError({name: ["应为正整数编号。"]})
    return int(raw)


def _changed_ids(request: Request, topic: str) -> Any:
    """Ids of objects with an org change event of `topic` since `updated_since`, or None."""
    raw = request.query_params.get("updated_since")
    if raw in (None, ""):
        return None
    try:
        since = parse_datetime(raw) or (datetime.combine(day, time.min) if (day := parse_date(raw)) else None)
    except ValueError:
        since = None
    if since is None:
        raise exceptions.ValidationError({"updated_since": ["时间格式应为 ISO 8601。"]})
    if timezone.is_naive(since):
        since = timezone.make_aware(since)
    if since < timezone.now() - timedelta(days=RETENTION_DAYS):
        raise exceptions.ValidationError(
            {"updated_since": [f"变更记录只保留 {RETENTION_DAYS} 天，请不带 updated_since 全量同步。"]}
        )
    return (
        OutboxEvent.objects.filter(topic=topic, created_at__gte=since)
        .annotate(changed=Cast("object_id", BigIntegerField()))
        .values("changed")
    )


UPDATED_SINCE = OpenApiParameter(
    "updated_since", OpenApiTypes.DATETIME, description=f"此时间之后有变化的（最多回溯 {RETENTION_DAYS} 天）"
)


class AgencyList(ApiView, generics.ListAPIView):
    """Agencies (a tree: each names its parent)."""

    required_scopes = (SCOPE,)
    serializer_class = AgencySerializer

    def get_queryset(self) -> QuerySet[Agency]:
        agencies = Agency.objects.filter(is_active=True)
        if (scope := _app_agencies(_who(self.request))) is not None:
            agencies = agencies.filter(pk__in=scope)
        if (changed := _changed_ids(self.request, "org.agency.changed")) is not None:
            agencies = agencies.filter(pk__in=changed)
        return agencies

    @extend_schema(summary="机关列表", parameters=[UPDATED_SINCE])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        return super().get(request, *args, **kwargs)


class DepartmentList(ApiView, generics.ListAPIView):
    required_scopes = (SCOPE,)
    serializer_class = DepartmentSerializer

    def get_queryset(self) -> QuerySet[Department]:
        departments = Department.objects.filter(is_active=True)
        if (scope := _app_agencies(_who(self.request))) is not None:
            departments = departments.filter(agency_id__in=scope)
        if (agency := _query_id(self.request, "agency")) is not None:
            departments = departments.filter(agency_id=agency)
        if (changed := _changed_ids(self.request, "org.department.changed")) is not None:
            departments = departments.filter(pk__in=changed)
        return departments

    @extend_schema(
        summary="部门列表",
        parameters=[OpenApiParameter("agency", OpenApiTypes.INT, description="机关编号"), UPDATED_SINCE],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        return super().get(request, *args, **kwargs)


def _entries(found: Caller, users: list[User]) -> list[directory.DirectoryEntry]:
    policies = directory.field_policies()
    if found.user is not None:
        return directory.entries_for(found.user, users, policies)
    return directory.entries_for_app(users, policies)


class PeopleList(ApiView, generics.ListAPIView):
    """People; with `q`, the 通讯录's search (best first, one page of at most 50)."""

    required_scopes = (SCOPE,)
    serializer_class = PersonSerializer

    def get_queryset(self) -> QuerySet[User]:
        request = self.request
        people = User.objects.filter(is_active=True, department__isnull=False)
        if (scope := _app_agencies(_who(request))) is not None:
            people = people.filter(department__agency_id__in=scope)
        if (agency := _query_id(request, "agency")) is not None:
            people = people.filter(department__agency_id=agency)
        if (department := _query_id(request, "department")) is not None:
            people = people.filter(department_id=department)
        user_changes = _changed_ids(request, "org.user.changed")
        if user_changes is not None:
            # A person's department or agency renamed changes what their card says too.
            people = people.filter(
                Q(pk__in=user_changes)
                | Q(department_id__in=_changed_ids(request, "org.department.changed"))
                | Q(department__agency_id__in=_changed_ids(request, "org.agency.changed"))
            )
        return people.select_related("department__agency", "position")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        found = _who(request)
        query = (request.query_params.get("q") or "").strip()
        if query:
            return Response({"next": None, "previous": None, "results": self._search(found, query)})
        page = self.paginate_queryset(self.get_queryset())
        entries = _entries(found, list(page or []))
        return self.get_paginated_response(PersonSerializer(entries, many=True).data)

    def _search(self, found: Caller, query: str) -> list[dict[str, Any]]:
        request = self.request
        limit = min(_query_id(request, "page_size") or SEARCH_PAGE_MAX, SEARCH_PAGE_MAX)
        agency_id, department_id = _query_id(request, "agency"), _query_id(request, "department")
        department = Department.objects.filter(pk=department_id).first() if department_id else None
        scope = _app_agencies(found)
        if scope is None:
            agency = Agency.objects.filter(pk=agency_id).first() if agency_id else None
            if (agency_id and agency is None) or (department_id and department is None):
                return []
            entries = directory.search_people(
                found.user, query, agency=agency, department=department, limit=limit
            )
        else:
            # The app searches from a desk in each of its agencies (the page's search, with what
            # someone of that agency may see — phone numbers included only where the policy says).
            wanted = [a for a in scope if agency_id in (None, a)]
            if department is not None:
                wanted = [a for a in wanted if a == department.agency_id]
            entries = []
            for agency in Agency.objects.filter(pk__in=wanted).order_by("path"):
                entries += directory.search_people(
                    directory.AgencyDesk(agency.pk), query, agency=agency, department=department, limit=limit
                )
            entries = entries[:limit]
        return PersonSerializer(entries, many=True).data

    @extend_schema(
        summary="人员列表与搜索",
        parameters=[
            OpenApiParameter("agency", OpenApiTypes.INT, description="机关编号"),
            OpenApiParameter("department", OpenApiTypes.INT, description="部门编号"),
            OpenApiParameter("q", OpenApiTypes.STR, description="姓名、拼音、首字母、电话或部门名称"),
            UPDATED_SINCE,
        ],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        return super().get(request, *args, **kwargs)


class PersonDetail(ApiView, generics.RetrieveAPIView):
    required_scopes = (SCOPE,)
    serializer_class = PersonSerializer

    def get_object(self) -> directory.DirectoryEntry:
        found = _who(self.request)
        people = User.objects.filter(is_active=True, department__isnull=False)
        if (scope := _app_agencies(found)) is not None:
            people = people.filter(department__agency_id__in=scope)
        user = get_object_or_404(
            people.select_related("department__agency", "position"), pk=self.kwargs["user_id"]
        )
        return _entries(found, [user])[0]

    @extend_schema(summary="人员详情")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        return super().get(request, *args, **kwargs)


urlpatterns = [
    path("agencies/", AgencyList.as_view(), name="agencies"),
    path("departments/", DepartmentList.as_view(), name="departments"),
    path("people/", PeopleList.as_view(), name="people"),
    path("people/<int:user_id>/", PersonDetail.as_view(), name="person"),
]
