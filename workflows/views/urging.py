"""The office's 催办 page: the agency's open 发文 and 收文 tasks with a deadline, most overdue first,
each with its holder, due label, 催办记录 and a 催办 button. Thin: access → one service → render."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from workflows.acting import FlowError
from workflows.urging import NOTE_MAX, can_urge_in, task_for_urging, urge, urging_list, urging_rows

PAGE_SIZE = 20
NOT_OFFICE = "只有本机关办公室（文秘、办公室主任、收发员）和督查员可以催办。"


class UrgeForm(forms.Form):
    note = forms.CharField(
        label="催办说明",
        max_length=NOTE_MAX,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "可选，如：请于今日下班前办结"}),
        error_messages={"max_length": f"催办说明不能超过{NOTE_MAX}字。"},
    )


def _auto_id(task_id: int) -> str:
    # One form per row: distinct ids keep each label tied to its own field.
    return f"urge-{task_id}-%s"


def _agency_id(user: Any) -> int:
    agency_id = user.department.agency_id if user.department_id else None
    if not can_urge_in(user, agency_id):
        raise PermissionDenied(NOT_OFFICE)
    return int(agency_id)


def _page(request: HttpRequest, agency_id: int, *, failed: dict[str, Any] | None = None) -> HttpResponse:
    paginator = Paginator(urging_list(agency_id, request.user), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page") or request.POST.get("page"))
    rows = urging_rows(list(page.object_list))
    for row in rows:
        # The row whose 催办 was refused shows the message and what was typed; the others are blank.
        mine = failed is not None and failed["task_id"] == row.task.pk
        row.form = failed["form"] if mine else UrgeForm(auto_id=_auto_id(row.task.pk))  # type: ignore[attr-defined, index]
        row.error = failed["error"] if mine else ""  # type: ignore[attr-defined, index]
    if failed and not any(row.task.pk == failed["task_id"] for row in rows):
        # The task left the list (finished meanwhile): the message goes on top of the page.
        messages.error(request, failed["error"])
    return render(
        request,
        "workflows/urging/page.html",
        {"page": page, "rows": rows, "total": paginator.count, "failed": failed},
    )


@login_required
@require_GET
def urging(request: HttpRequest) -> HttpResponse:
    return _page(request, _agency_id(request.user))


@login_required
@require_POST
def urge_task(request: HttpRequest, task_id: int) -> HttpResponse:
    task, _document = task_for_urging(request.user, task_id)
    form = UrgeForm(request.POST, auto_id=_auto_id(task.pk))
    error = ""
    if form.is_valid():
        try:
            reminder = urge(task, actor=request.user, note=form.cleaned_data["note"])  # type: ignore[arg-type]
        except FlowError as exc:
            error = exc.message
        else:
            messages.success(request, f"已催办，{len(reminder.recipients)}人收到提醒。")
            page = request.POST.get("page", "")
            url = reverse("workflows:urging")
            return redirect(
                f"{url}?page={page}#task-{task.pk}" if page.isdigit() else f"{url}#task-{task.pk}"
            )
    else:
        error = "；".join(str(e) for e in form.errors.get("note", []))
    # Refused: the page again, with the message beside the task and the note as typed.
    agency_id = request.user.department.agency_id if request.user.department_id else None  # type: ignore[union-attr]
    if not can_urge_in(request.user, agency_id):
        messages.error(request, error)
        return redirect("workflows:inbox")
    return _page(request, int(agency_id), failed={"task_id": task.pk, "form": form, "error": error})  # type: ignore[arg-type]


urlpatterns = [
    path("urging/", urging, name="urging"),
    path("urging/<int:task_id>/urge/", urge_task, name="urge_task"),
]
