"""传阅 pages: start a circulation of a document (the agency's office), and a reader's item page
(document summary, files, 已阅 with an optional comment). Both work on a phone (375 px).
Thin: parse → access → one service (workflows/circulation.py) → render. Mounted by workflows/urls.py
(`*circulation.urlpatterns`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path
from django.views.decorators.http import require_http_methods

from documents import access as documents_access
from documents.models import RenderStatus
from officeapp.audit.services import record_view
from officeapp.org.models import Department, Role, User
from workflows import access
from workflows.acting import FlowError
from workflows.assignment import role_holders
from workflows.circulation import COMMENT_MAX, NOTE_MAX, circulate, mark_read, readings_of
from workflows.models import ReadingState


def agency_people(agency_id: int) -> QuerySet[User]:
    """Active people of the agency, leaders first (by rank), then by department and order."""
    leader_ids = role_holders(Role.LEADER, agency_id).values("pk")
    return (
        User.objects.filter(department__agency_id=agency_id, is_active=True)
        .select_related("department", "position")
        .annotate(
            leads=Case(When(pk__in=leader_ids, then=Value(0)), default=Value(1), output_field=IntegerField())
        )
        .order_by("leads", "-position__rank", "department__sort_order", "sort_order", "pk")
    )


class CirculateForm(forms.Form):
    """Readers one by one (leaders listed first) and/or whole departments (→ their people)."""

    readers = forms.ModelMultipleChoiceField(
        label="传阅人员",
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="依次传阅时按列表顺序（领导在前）逐一送阅。",
    )
    departments = forms.ModelMultipleChoiceField(
        label="整个处室传阅",
        queryset=Department.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="所选处室的全部人员均为传阅人员。",
    )
    in_order = forms.TypedChoiceField(
        label="传阅方式",
        choices=[("0", "同时传阅（所有人同时收到）"), ("1", "依次传阅（一人阅毕再送下一人）")],
        coerce=lambda v: v == "1",
        initial="0",
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label="传阅说明", max_length=NOTE_MAX, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, agency_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = agency_people(agency_id)
        self.fields["readers"].queryset = people
        self.fields["readers"].label_from_instance = lambda u: (
            f"{u.real_name}（{u.department.name}{'·' + u.position.name if u.position else ''}）"
        )
        self.fields["departments"].queryset = Department.objects.filter(
            agency_id=agency_id, is_active=True
        ).order_by("sort_order", "pk")
        self.fields["readers"].error_messages["invalid_choice"] = "所选人员不在可选范围内，请重新选择。"
        self.fields["readers"].error_messages["invalid_pk_value"] = "所选人员不在可选范围内，请重新选择。"
        self.fields["departments"].error_messages["invalid_choice"] = "所选处室不在可选范围内，请重新选择。"
        self.fields["departments"].error_messages["invalid_pk_value"] = "所选处室不在可选范围内，请重新选择。"
        self.fields["in_order"].error_messages["invalid_choice"] = "请选择传阅方式。"
        self.fields["in_order"].error_messages["required"] = "请选择传阅方式。"
        self.fields["note"].error_messages["max_length"] = "传阅说明最多 %(limit_value)s 个字。"

    def chosen_readers(self) -> list[User]:
        """The people chosen one by one, in the list's order, then each chosen department's people."""
        listed = list(self.fields["readers"].queryset)
        chosen = {u.pk for u in self.cleaned_data.get("readers") or []}
        departments = {d.pk for d in self.cleaned_data.get("departments") or []}
        first = [u for u in listed if u.pk in chosen]
        rest = [u for u in listed if u.department_id in departments and u.pk not in chosen]
        return first + rest


class ReadForm(forms.Form):
    comment = forms.CharField(
        label="阅读意见（可不填）",
        max_length=COMMENT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["comment"].error_messages["max_length"] = "阅读意见最多 %(limit_value)s 个字。"


def _files(document: Any) -> dict[str, Any]:
    latest: dict[str, Any] = {}
    for rendering in document.renderings.filter(status=RenderStatus.READY).order_by("-created_at")[:12]:
        latest.setdefault(rendering.kind, rendering)
    return {
        "attachments": document.attachments.filter(removed_at__isnull=True).order_by("order", "pk"),
        "renderings": list(latest.values()),
    }


@login_required
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest, document_id: int) -> HttpResponse:
    """发起传阅: the document's agency's office chooses readers and how they read."""
    document = documents_access.get_document_for(request.user, document_id)
    if not access.can_circulate(request.user, document):
        raise PermissionDenied("只有本单位办公室可以发起传阅。")
    form = CirculateForm(request.POST or None, agency_id=document.agency_id)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            circulate(
                document,
                actor=request.user,
                readers=form.chosen_readers(),
                in_order=form.cleaned_data["in_order"],
                note=form.cleaned_data["note"],
            )
        except FlowError as exc:
            error = exc.message
        else:
            messages.success(request, "已发起传阅，阅读人会立即收到待阅提醒。")
            return redirect("documents:detail", document.pk)
    return render(
        request,
        "workflows/circulation/start.html",
        {"document": document, "form": form, "error": error, "circulations": readings_of(document)},
        status=400 if error else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def reading(request: HttpRequest, reading_id: int) -> HttpResponse:
    """A reader's 待阅 item: what the document is, its files, and 已阅 with an optional comment."""
    item = access.get_reading_for(request.user, reading_id)
    document = item.circulation.document
    form = ReadForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            mark_read(item, actor=request.user, comment=form.cleaned_data["comment"])
        except FlowError as exc:
            error = exc.message
        else:
            messages.success(request, "已阅。")
            return redirect("workflows:reading", item.pk)
    if request.method == "GET":
        record_view(request, document, action="workflows.reading_viewed", details={"reading": item.pk})
    item.refresh_from_db()
    return render(
        request,
        "workflows/circulation/reading.html",
        {
            "item": item,
            "document": document,
            "circulation": item.circulation,
            "form": form,
            "error": error,
            "unread": item.state == ReadingState.UNREAD,
            "waiting": item.state == ReadingState.WAITING,
            "others": item.circulation.readers.select_related("reader", "on_behalf_of").order_by(
                "order", "pk"
            ),
            **_files(document),
        },
        status=400 if error else 200,
    )


def circulation_panel(request: HttpRequest, document: Any) -> str:
    """The 传阅 panel on the document page (registered in documents.panels.document_panels): the
    page has already checked that the viewer may see the document. Nothing when there is no
    circulation and the viewer may not start one."""
    circulations = readings_of(document)
    can = access.can_circulate(request.user, document)
    if not circulations and not can:
        return ""
    mine = {r.pk for c in circulations for r in c.readers.all() if r.reader_id == request.user.pk}
    return render_to_string(
        "workflows/circulation/_panel.html",
        {"document": document, "circulations": circulations, "can_circulate": can, "mine": mine},
        request=request,
    )


urlpatterns = [
    path("documents/<int:document_id>/circulate/", start, name="circulate"),
    path("readings/<int:reading_id>/", reading, name="reading"),
]
