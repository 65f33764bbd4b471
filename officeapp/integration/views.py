"""应用管理 pages: the list, registering, an app's page, editing, rotating a secret, suspending and
resuming, and its 调用记录. Each POST calls one officeapp.integration.services verb; a refusal
re-renders the form with what was typed and the Chinese sentence. Secrets appear only in the answer
to the POST that made them (no-store), never again."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from officeapp.audit.models import AuditEvent
from officeapp.integration import access, services
from officeapp.integration.forms import AppForm, RotateForm, agency_options
from officeapp.integration.models import App
from officeapp.integration.services import IssuedSecret, RegistryError
from officeapp.org.models import Department

MSG_NOT_MANAGER = "只有系统管理员或单位管理员可以管理应用。"
CALLS_PER_PAGE = 50


def _require_manager(user: Any) -> None:
    if not access.may_manage_any(user):
        raise PermissionDenied(MSG_NOT_MANAGER)


def _calls(app: App) -> Any:
    return AuditEvent.objects.filter(object_type=services.OBJECT_TYPE, object_id=str(app.pk)).order_by("-id")


def _form_page(request: HttpRequest, form: AppForm, app: App | None, status: int = 200) -> HttpResponse:
    chosen = form.chosen_ids("visible_agencies") | form.chosen_ids("data_agencies")
    return render(
        request,
        "integration/form.html",
        {
            "form": form,
            "app": app,
            "agencies": list(agency_options(sorted(chosen))),
            "visible_agencies_chosen": form.chosen_ids("visible_agencies"),
            "data_agencies_chosen": form.chosen_ids("data_agencies"),
            "departments_chosen": form.chosen_ids("visible_departments"),
            "is_platform_admin": access.is_platform_admin(request.user),
            "page_title": f"编辑 {app.name}" if app else "登记应用",
        },
        status=status,
    )


def _refused(form: AppForm, exc: RegistryError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _secret_page(request: HttpRequest, app: App, secrets: list[IssuedSecret], title: str) -> HttpResponse:
    response = render(
        request,
        "integration/secret.html",
        {"app": app, "secrets": secrets, "page_title": title},
    )
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET"])
@login_required
def app_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (access.may_manage_any(user) or access.may_read_call_logs(user)):
        raise PermissionDenied(MSG_NOT_MANAGER)
    apps = (
        access.log_readable_apps(user).select_related("owner_agency").order_by("owner_agency__path", "name")
    )
    rows = [{"app": a, "can_manage": access.can_manage(user, a)} for a in apps]
    return render(
        request,
        "integration/list.html",
        {"rows": rows, "can_register": access.may_manage_any(user), "page_title": "应用管理"},
    )


@require_http_methods(["GET", "POST"])
@login_required
def app_new(request: HttpRequest) -> HttpResponse:
    _require_manager(request.user)
    owners = access.registrable_agencies(request.user).order_by("path")
    # Departments to choose from only when the owner is clear (an agency administrator's own agency).
    own = list(owners[:2])
    departments = Department.objects.filter(agency=own[0], is_active=True) if len(own) == 1 else None
    initial = {"owner_agency": own[0].pk} if len(own) == 1 else {}
    if request.method == "POST":
        form = AppForm(request.POST, owner_agencies=owners, departments=departments)
        if form.is_valid():
            try:
                done = services.register_app(
                    request.user, owner_agency=form.cleaned_data["owner_agency"], **form.values()
                )
            except RegistryError as exc:
                _refused(form, exc)
            else:
                return _secret_page(request, done.app, done.secrets, f"已登记 {done.app.name}")
        return _form_page(request, form, None, status=400)
    form = AppForm(owner_agencies=owners, departments=departments, initial=initial)
    return _form_page(request, form, None)


@require_http_methods(["GET"])
@login_required
def app_detail(request: HttpRequest, app_id: int) -> HttpResponse:
    app = access.get_app_for(request.user, app_id)
    return render(
        request,
        "integration/detail.html",
        {
            "app": app,
            "scopes": [(s, label) for s, label in _scope_labels() if s in app.scopes],
            "visible_agencies": list(app.visible_agencies.order_by("path")),
            "visible_departments": list(app.visible_departments.select_related("agency")),
            "visible_roles": [label for value, label in _role_labels() if value in app.visible_roles],
            "data_agencies": list(app.data_agencies.order_by("path")),
            "calls": list(_calls(app)[:10]),
            "page_title": app.name,
        },
    )


def _scope_labels() -> list[tuple[str, str]]:
    from django.conf import settings

    return list(settings.API_SCOPES.items())


def _role_labels() -> list[tuple[str, str]]:
    from officeapp.org.models import Role

    return list(Role.choices)


@require_http_methods(["GET", "POST"])
@login_required
def app_edit(request: HttpRequest, app_id: int) -> HttpResponse:
    app = access.get_app_for(request.user, app_id)
    departments = Department.objects.filter(agency_id=app.owner_agency_id, is_active=True)
    if request.method == "POST":
        form = AppForm(request.POST, departments=departments)
        if form.is_valid():
            try:
                services.update_app(request.user, app, **form.values())
            except RegistryError as exc:
                _refused(form, exc)
            else:
                messages.success(request, "已保存应用设置。")
                return redirect("integration:detail", app_id=app.pk)
        return _form_page(request, form, app, status=400)
    return _form_page(request, AppForm(departments=departments, initial=AppForm.initial_for(app)), app)


@require_POST
@login_required
def app_rotate(request: HttpRequest, app_id: int) -> HttpResponse:
    app = access.get_app_for(request.user, app_id)
    form = RotateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择要更换密钥的客户端。")
        return redirect("integration:detail", app_id=app.pk)
    try:
        issued = services.rotate_secret(request.user, app, form.cleaned_data["which"])
    except RegistryError as exc:
        messages.error(request, exc.message)
        return redirect("integration:detail", app_id=app.pk)
    return _secret_page(request, app, [issued], f"已更换 {app.name} 的{issued.label}密钥")


@require_POST
@login_required
def app_suspend(request: HttpRequest, app_id: int) -> HttpResponse:
    app = access.get_app_for(request.user, app_id)
    try:
        services.suspend_app(request.user, app)
    except RegistryError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已停用 {app.name}：其访问令牌已全部作废，工作台不再显示。")
    return redirect("integration:detail", app_id=app.pk)


@require_POST
@login_required
def app_resume(request: HttpRequest, app_id: int) -> HttpResponse:
    app = access.get_app_for(request.user, app_id)
    try:
        services.resume_app(request.user, app)
    except RegistryError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已启用 {app.name}。")
    return redirect("integration:detail", app_id=app.pk)


@require_http_methods(["GET"])
@login_required
def app_calls(request: HttpRequest, app_id: int) -> HttpResponse:
    """The app's audit events, newest first, a page at a time by id (constant time however long)."""
    app = access.get_app_log_for(request.user, app_id)
    rows = _calls(app)
    before = request.GET.get("before", "")
    if before.isdigit() and int(before) <= 2**62:
        rows = rows.filter(id__lt=int(before))
    page = list(rows[: CALLS_PER_PAGE + 1])
    more = len(page) > CALLS_PER_PAGE
    page = page[:CALLS_PER_PAGE]
    return render(
        request,
        "integration/calls.html",
        {
            "app": app,
            "calls": page,
            "next_before": page[-1].pk if more else None,
            "is_first_page": not before,
            "can_manage": access.can_manage(request.user, app),
            "page_title": f"{app.name} 调用记录",
        },
    )


def register() -> None:
    """The 应用管理 entry of the top navigation, for those who manage an app (called from ready())."""
    from officeapp.registries import nav_entries
    from officeapp.workbench.navigation import NavEntry

    nav_entries.register(
        "integration", NavEntry("应用管理", "integration:apps", order=90, visible=access.may_manage_any)
    )
