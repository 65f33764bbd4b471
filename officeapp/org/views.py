"""Org pages: the 通讯录 for everyone, maintenance for agency administrators, one's own 委托.

Views parse, look up through officeapp.org.access, call one service and render.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from officeapp import access
from officeapp.org import access as org_access
from officeapp.org import directory, services, spreadsheets
from officeapp.org.forms import (
    AgencyForm,
    ConcurrentPostForm,
    DelegationForm,
    DepartmentForm,
    ImportForm,
    NewAgencyForm,
    NewUserForm,
    PortfolioForm,
    PositionForm,
    SuccessorForm,
    TransferForm,
    UserForm,
)
from officeapp.org.handover import open_work
from officeapp.org.models import Agency, Department, Portfolio, Position, User

PAGE_SIZE = 50
# A page number beyond this is a hand-edited URL: it gets the empty last page, not an offset the
# database refuses (a server error) or a search that reads ever more candidates.
MAX_PAGE = 1000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _page_number(request: HttpRequest) -> int:
    try:
        return min(max(int(request.GET.get("page", "1")), 1), MAX_PAGE)
    except ValueError:
        return 1


def _error_text(exc: ValidationError) -> str:
    return "；".join(exc.messages)


def _xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = (
        f"attachment; filename=\"export.xlsx\"; filename*=UTF-8''{quote(filename)}"
    )
    return response


# --- 通讯录 -------------------------------------------------------------------------------------


@login_required
@require_GET
def directory_home(request: HttpRequest) -> HttpResponse:
    org_access.require_directory_reader(request.user)
    query = request.GET.get("q", "").strip()
    roots = Agency.objects.filter(parent__isnull=True, is_active=True).order_by("sort_order", "path")[
        :PAGE_SIZE
    ]
    context: dict[str, Any] = {"roots": roots, "query": query, "page_title": "通讯录"}
    if query:
        context.update(_search_context(request, query))
    return render(request, "org/directory.html", context)


def _search_context(request: HttpRequest, query: str) -> dict[str, Any]:
    page = _page_number(request)
    size = 20
    # One more than a page tells whether there is a next page without counting the province.
    found = directory.search_people(request.user, query, limit=size + 1, offset=(page - 1) * size)
    return {
        "results": found[:size],
        "query": query,
        "page": page,
        "has_next": len(found) > size,
        "short_query": len(query) < 2,
    }


@login_required
@require_GET
def directory_search(request: HttpRequest) -> HttpResponse:
    org_access.require_directory_reader(request.user)
    query = request.GET.get("q", "").strip()
    if not request.htmx:
        target = reverse("org:directory")
        return redirect(f"{target}?{urlencode({'q': query})}" if query else target)
    return render(request, "org/_directory_results.html", _search_context(request, query))


@login_required
@require_GET
def directory_agency(request: HttpRequest, agency_id: int) -> HttpResponse:
    """One level of the org tree: an agency's child agencies (paginated) and its departments."""
    org_access.require_directory_reader(request.user)
    agency = access.get_or_404(Agency.objects.filter(is_active=True), pk=agency_id)
    children = Paginator(
        Agency.objects.filter(parent=agency, is_active=True).order_by("sort_order", "path"), PAGE_SIZE
    ).get_page(_page_number(request))
    departments = Department.objects.filter(agency=agency, is_active=True).order_by("path")
    context = {"agency": agency, "children": children, "departments": departments, "page_title": agency.name}
    template = "org/_directory_agency.html" if request.htmx else "org/directory_agency.html"
    return render(request, template, context)


@login_required
@require_GET
def directory_department(request: HttpRequest, department_id: int) -> HttpResponse:
    org_access.require_directory_reader(request.user)
    department = access.get_or_404(
        Department.objects.filter(is_active=True).select_related("agency"), pk=department_id
    )
    page = _page_number(request)
    members = directory.department_members(
        request.user, department, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
    )
    context = {
        "department": department,
        "members": members[:PAGE_SIZE],
        "page": page,
        "has_next": len(members) > PAGE_SIZE,
        "page_title": str(department),
    }
    template = "org/_directory_members.html" if request.htmx else "org/directory_department.html"
    return render(request, template, context)


# The people picker (org/_people_picker.html, officeapp/picker.js) asks for this many at a time.
PEOPLE_LOOKUP_LIMIT = 20
PEOPLE_QUERY_MAX = 50


@login_required
@require_GET
def people_lookup(request: HttpRequest) -> JsonResponse:
    """The 通讯录 search behind every people picker (a chat group's members, a meeting's invitees):
    any agency, under the directory's own visibility rules, never oneself."""
    org_access.require_directory_reader(request.user)
    q = (request.GET.get("q") or "").strip()[:PEOPLE_QUERY_MAX]
    found = directory.search_people(request.user, q, limit=PEOPLE_LOOKUP_LIMIT) if q else []
    return JsonResponse(
        {
            "people": [
                {"id": p.id, "name": p.real_name, "department": p.department, "agency": p.agency}
                for p in found
                if not p.is_self
            ]
        }
    )


@login_required
@require_GET
def person(request: HttpRequest, user_id: int) -> HttpResponse:
    org_access.require_directory_reader(request.user)
    entry = directory.get_person(request.user, user_id)
    if entry is None:
        raise Http404(access.NOT_FOUND_MESSAGE)
    template = "org/_person_card.html" if request.htmx else "org/person.html"
    context = {
        "entry": entry,
        "actions": directory.actions_for(request.user, entry),
        "page_title": entry.real_name,
    }
    return render(request, template, context)


# --- 组织管理 -------------------------------------------------------------------------------------


@login_required
@require_GET
def manage(request: HttpRequest) -> HttpResponse:
    org_access.require_org_admin(request.user)
    managed = org_access.managed_agencies(request.user)
    if access.is_system_admin(request.user) and managed.filter(parent__isnull=True).exists():
        roots = managed.filter(parent__isnull=True)
    else:
        roots = managed.exclude(parent__in=managed)
    page = Paginator(roots.order_by("sort_order", "path"), PAGE_SIZE).get_page(_page_number(request))
    context = {
        "page_obj": page,
        "page_title": "组织管理",
        "can_keep_positions": org_access.can_keep_positions(request.user),
    }
    return render(request, "org/manage.html", context)


@login_required
@require_GET
def manage_children(request: HttpRequest, agency_id: int) -> HttpResponse:
    agency = org_access.get_agency_for_admin(request.user, agency_id)
    children = Paginator(
        Agency.objects.filter(parent=agency).order_by("sort_order", "path"), PAGE_SIZE
    ).get_page(_page_number(request))
    return render(request, "org/_manage_children.html", {"agency": agency, "children": children})


@login_required
@require_GET
def manage_agency(request: HttpRequest, agency_id: int) -> HttpResponse:
    agency = org_access.get_agency_for_admin(request.user, agency_id)
    departments = list(Department.objects.filter(agency=agency).order_by("path"))
    users = User.objects.filter(department__agency=agency).select_related("department", "position")
    department_id = request.GET.get("department", "")
    if department_id.isdigit():
        # Only this agency's departments can match; an id the database could not hold is no error.
        if int(department_id) in {d.pk for d in departments}:
            users = users.filter(department_id=int(department_id))
        else:
            users = users.none()
    query = request.GET.get("q", "").strip()[:40]
    if query:
        users = users.filter(real_name__startswith=query) | users.filter(username__startswith=query)
    page = Paginator(users.order_by("department__path", "sort_order", "pk"), PAGE_SIZE).get_page(
        _page_number(request)
    )
    # The 三员 and other agency administrators are listed but not offered actions that would 404.
    manageable = set(
        org_access.managed_users(request.user)
        .filter(pk__in=[u.pk for u in page])
        .values_list("pk", flat=True)
    )
    context = {
        "agency": agency,
        "departments": departments,
        "page_obj": page,
        "manageable": manageable,
        "query": query,
        "department_filter": department_id,
        "page_title": f"组织管理 · {agency.name}",
    }
    template = "org/_manage_users.html" if request.htmx else "org/manage_agency.html"
    return render(request, template, context)


def _form_page(
    request: HttpRequest, form: Any, title: str, back: str, submit: str = "保存", **extra: Any
) -> HttpResponse:
    return render(
        request, "org/form.html", {"form": form, "page_title": title, "back": back, "submit": submit, **extra}
    )


@login_required
def agency_edit(request: HttpRequest, agency_id: int) -> HttpResponse:
    agency = org_access.get_agency_for_admin(request.user, agency_id)
    back = reverse("org:manage_agency", args=[agency.pk])
    initial = {
        "name": agency.name,
        "short_name": agency.short_name,
        "level": agency.level,
        "number_prefix": agency.number_prefix,
        "sort_order": agency.sort_order,
    }
    form = AgencyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.update_agency(agency, actor=request.user, **form.cleaned_data)
        messages.success(request, "机关信息已保存。")
        return redirect(back)
    return _form_page(request, form, f"编辑机关 · {agency.name}", back)


@login_required
def positions(request: HttpRequest) -> HttpResponse:
    """职务: the province-wide list the user forms choose from, kept by the 系统管理员."""
    org_access.require_position_keeper(request.user)
    form = PositionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        position = services.create_position(actor=request.user, **form.cleaned_data)
        messages.success(request, f"已新增职务“{position.name}”。")
        return redirect("org:positions")
    rows = Position.objects.order_by("-rank", "name")
    return render(request, "org/positions.html", {"form": form, "rows": rows, "page_title": "职务"})


@login_required
def agency_create(request: HttpRequest, agency_id: int) -> HttpResponse:
    parent = org_access.get_agency_for_admin(request.user, agency_id)
    form = NewAgencyForm(request.POST or None, initial={"level": parent.level})
    if request.method == "POST" and form.is_valid():
        agency = services.create_agency(actor=request.user, parent=parent, **form.cleaned_data)
        messages.success(request, f"已新建下级机关“{agency.name}”。")
        return redirect("org:manage_agency", agency.pk)
    back = reverse("org:manage_agency", args=[parent.pk])
    return _form_page(request, form, f"新建下级机关 · {parent.name}", back)


@login_required
def department_create(request: HttpRequest, agency_id: int) -> HttpResponse:
    agency = org_access.get_agency_for_admin(request.user, agency_id)
    back = reverse("org:manage_agency", args=[agency.pk])
    form = DepartmentForm(request.POST or None, agency=agency)
    if request.method == "POST" and form.is_valid():
        services.create_department(actor=request.user, agency=agency, **form.cleaned_data)
        messages.success(request, f"已新建部门“{form.cleaned_data['name']}”。")
        return redirect(back)
    return _form_page(request, form, f"新建部门 · {agency.name}", back)


@login_required
def department_edit(request: HttpRequest, department_id: int) -> HttpResponse:
    department = org_access.get_department_for_admin(request.user, department_id)
    back = reverse("org:manage_agency", args=[department.agency_id])
    initial = {
        "name": department.name,
        "code": department.code,
        "parent": department.parent,
        "kind": department.kind,
        "phone": department.phone,
        "sort_order": department.sort_order,
    }
    form = DepartmentForm(
        request.POST or None, initial=initial, agency=department.agency, instance=department
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.edit_department(
                department,
                actor=request.user,
                parent=data["parent"],
                name=data["name"],
                kind=data["kind"],
                phone=data["phone"],
                sort_order=data["sort_order"],
                code=data["code"],
            )
        except ValidationError as exc:
            # The transaction rolled back; the object in hand did not: show the stored name.
            department.refresh_from_db()
            form.add_error("parent", _error_text(exc))
        else:
            messages.success(request, "部门信息已保存。")
            return redirect(back)
    return _form_page(request, form, f"编辑部门 · {department.name}", back)


def _password_page(request: HttpRequest, user: User, password: str, title: str) -> HttpResponse:
    # Shown once: the password is in this response only and stored nowhere in clear.
    response = render(
        request,
        "org/password_shown.html",
        {
            "subject": user,
            "password": password,
            "page_title": title,
            "back": reverse("org:manage_agency", args=[user.agency_id]),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
def user_create(request: HttpRequest, agency_id: int) -> HttpResponse:
    agency = org_access.get_agency_for_admin(request.user, agency_id)
    back = reverse("org:manage_agency", args=[agency.pk])
    form = NewUserForm(request.POST or None, agency=agency)
    if request.method == "POST" and form.is_valid():
        password = services.generate_initial_password()
        user = services.create_user(
            actor=request.user, password=password, must_change_password=True, **form.cleaned_data
        )
        return _password_page(request, user, password, "用户已创建")
    return _form_page(request, form, f"新建用户 · {agency.name}", back)


@login_required
def user_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    subject = org_access.get_user_for_admin(request.user, user_id)
    back = reverse("org:manage_agency", args=[subject.agency_id])
    initial = {
        "real_name": subject.real_name,
        "employee_no": subject.employee_no,
        "position": subject.position,
        "mobile": subject.mobile,
        "office_phone": subject.office_phone,
        "email": subject.email,
        "sort_order": subject.sort_order,
    }
    form = UserForm(request.POST or None, initial=initial, agency=subject.department.agency, instance=subject)
    if request.method == "POST" and form.is_valid():
        services.update_user(subject, actor=request.user, **form.cleaned_data)
        messages.success(request, f"已保存 {subject.real_name} 的信息。")
        return redirect(back)
    posts = subject.concurrent_posts.select_related("department__agency", "position").order_by("pk")
    post_form = ConcurrentPostForm(departments=_other_departments(request.user, subject))
    return _form_page(
        request,
        form,
        f"编辑用户 · {subject.real_name}",
        back,
        subject=subject,
        posts=posts,
        post_form=post_form,
    )


def _other_departments(actor: Any, subject: User) -> QuerySet[Department]:
    """Active departments the actor maintains, other than the subject's own: where a 兼职 or a 调动 may go."""
    return (
        org_access.managed_departments(actor)
        .filter(is_active=True)
        .exclude(pk=subject.department_id)
        .select_related("agency")
        .order_by("agency__path", "path")
    )


@login_required
@require_POST
def concurrent_post_add(request: HttpRequest, user_id: int) -> HttpResponse:
    subject = org_access.get_user_for_admin(request.user, user_id)
    form = ConcurrentPostForm(request.POST, departments=_other_departments(request.user, subject))
    if form.is_valid():
        try:
            services.add_concurrent_post(subject, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, f"已为 {subject.real_name} 添加兼职。")
    else:
        messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
    return redirect("org:user_edit", subject.pk)


@login_required
@require_POST
def concurrent_post_remove(request: HttpRequest, post_id: int) -> HttpResponse:
    post = org_access.get_concurrent_post_for_admin(request.user, post_id)
    user_id = post.user_id
    services.remove_concurrent_post(post, actor=request.user)
    messages.success(request, "兼职已解除。")
    return redirect("org:user_edit", user_id)


@login_required
def user_disable(request: HttpRequest, user_id: int) -> HttpResponse:
    subject = org_access.get_user_for_admin(request.user, user_id)
    back = reverse("org:manage_agency", args=[subject.agency_id])
    form = SuccessorForm(
        request.POST or None, candidates=org_access.managed_users(request.user), subject=subject
    )
    if request.method == "POST" and form.is_valid():
        try:
            report = services.disable_user(
                subject, actor=request.user, successor=form.cleaned_data["successor"]
            )
        except ValidationError as exc:
            form.add_error("successor", _error_text(exc))
        else:
            who = f"，{report.total} 项未办事项已交给 {report.successor}" if report.total else ""
            messages.success(request, f"已停用 {subject.real_name}{who}。")
            return redirect(back)
    return _form_page(
        request,
        form,
        f"停用用户 · {subject.real_name}",
        back,
        submit="确认停用",
        work=open_work(subject),
        default_successor=services.default_successor(subject),
        danger=True,
    )


@login_required
@require_POST
def user_enable(request: HttpRequest, user_id: int) -> HttpResponse:
    subject = org_access.get_user_for_admin(request.user, user_id)
    try:
        services.enable_user(subject, actor=request.user)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, f"已启用 {subject.real_name}。")
    return redirect("org:manage_agency", subject.agency_id)


@login_required
def user_transfer(request: HttpRequest, user_id: int) -> HttpResponse:
    subject = org_access.get_user_for_admin(request.user, user_id)
    back = reverse("org:manage_agency", args=[subject.agency_id])
    form = TransferForm(
        request.POST or None,
        candidates=org_access.managed_users(request.user),
        subject=subject,
        departments=_other_departments(request.user, subject),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.transfer_user(
                subject,
                actor=request.user,
                department=data["department"],
                position=data["position"],
                successor=data["successor"],
            )
        except ValidationError as exc:
            # A refusal may concern the department, the successor or the user: show it above the form.
            form.add_error(None, _error_text(exc))
        else:
            messages.success(request, f"{subject.real_name} 已调入 {data['department']}。")
            return redirect(back)
    return _form_page(
        request,
        form,
        f"调动用户 · {subject.real_name}",
        back,
        submit="确认调动",
        work=open_work(subject),
        default_successor=services.default_successor(subject),
    )


@login_required
@require_POST
def user_reset_password(request: HttpRequest, user_id: int) -> HttpResponse:
    subject = org_access.get_user_for_admin(request.user, user_id)
    password = services.reset_password(subject, actor=request.user)
    return _password_page(request, subject, password, "密码已重置")


@login_required
def org_import(request: HttpRequest, agency_id: int) -> HttpResponse:
    agency = org_access.get_agency_for_admin(request.user, agency_id)
    form = ImportForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"agency": agency, "form": form, "page_title": f"批量导入 · {agency.name}"}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = spreadsheets.import_org(upload, actor=request.user, agency=agency, size=upload.size)
        except spreadsheets.ImportRefused as exc:
            form.add_error("file", str(exc))
        else:
            context["result"] = result
            if result.ok:
                content = spreadsheets.credentials_workbook(result.credentials)
                context["credentials_href"] = f"data:{XLSX};base64,{base64.b64encode(content).decode()}"
    response = render(request, "org/import.html", context)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def org_export(request: HttpRequest, agency_id: int) -> HttpResponse:
    agency = org_access.get_agency_for_admin(request.user, agency_id)
    content = spreadsheets.export_org(agency, actor=request.user)
    stamp = timezone.localtime().strftime("%Y%m%d")
    return _xlsx_response(content, f"{agency.short_name or agency.name}-组织机构-{stamp}.xlsx")


@login_required
@require_GET
def import_template(request: HttpRequest) -> HttpResponse:
    org_access.require_org_admin(request.user)
    return _xlsx_response(spreadsheets.template_workbook(), "组织机构导入模板.xlsx")


@login_required
def portfolios(request: HttpRequest, agency_id: int) -> HttpResponse:
    agency = org_access.get_agency_for_admin(request.user, agency_id)
    form = PortfolioForm(request.POST or None, agency=agency, leaders=org_access.managed_users(request.user))
    if request.method == "POST" and form.is_valid():
        department = form.cleaned_data["department"]
        try:
            services.add_portfolio(
                actor=request.user,
                leader=form.cleaned_data["leader"],
                department=department,
                agency=None if department else agency,
            )
        except ValidationError as exc:
            form.add_error(None, _error_text(exc))
        else:
            messages.success(request, "分管关系已添加。")
            return redirect("org:portfolios", agency.pk)
    rows = (
        Portfolio.objects.filter(leader__department__agency=agency)
        .select_related("leader", "department", "agency")
        .order_by("leader__sort_order", "pk")
    )
    return render(
        request,
        "org/portfolios.html",
        {"agency": agency, "form": form, "rows": rows, "page_title": f"分管 · {agency.name}"},
    )


@login_required
@require_POST
def portfolio_remove(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    portfolio = org_access.get_portfolio_for_admin(request.user, portfolio_id)
    agency_id = portfolio.leader.agency_id
    services.remove_portfolio(portfolio, actor=request.user)
    messages.success(request, "分管关系已删除。")
    return redirect("org:portfolios", agency_id)


# --- 委托 -----------------------------------------------------------------------------------------


@login_required
def delegations(request: HttpRequest) -> HttpResponse:
    form = DelegationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.create_delegation(
                actor=request.user,
                from_user=request.user,
                to_user=data["to_user"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                scope=data["scope"],
                reason=data["reason"],
            )
        except ValidationError as exc:
            form.add_error(None, _error_text(exc))
        else:
            messages.success(request, f"已委托 {data['to_user']} 代为办理。")
            return redirect("org:delegations")
    rows = (
        org_access.own_delegations(request.user)
        .select_related("from_user", "to_user")
        .order_by("-starts_at", "-pk")
    )
    page = Paginator(rows, 20).get_page(_page_number(request))
    return render(
        request,
        "org/delegations.html",
        {"form": form, "page_obj": page, "now": timezone.now(), "page_title": "我的委托"},
    )


@login_required
@require_POST
def delegation_revoke(request: HttpRequest, delegation_id: int) -> HttpResponse:
    delegation = org_access.get_delegation_for(request.user, delegation_id)
    try:
        services.revoke_delegation(delegation, actor=request.user)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, "委托已撤销。")
    return redirect("org:delegations")
