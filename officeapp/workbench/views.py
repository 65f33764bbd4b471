"""工作台 and the profile page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET

from officeapp import access
from officeapp.org.models import User
from officeapp.workbench.tiles import tiles_for


def _url(name_or_path: str) -> str:
    """A tile's link: a URL name when one resolves, else the path as given (or nothing)."""
    if not name_or_path or name_or_path.startswith("/"):
        return name_or_path
    try:
        return reverse(name_or_path)
    except NoReverseMatch:
        return ""


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if access.is_audit_admin(request.user):
        # 审计管理员 has no workbench: the audit log is the one page they use.
        try:
            return redirect(reverse("audit:events"))
        except NoReverseMatch:
            pass
    tiles = [(rendered, _url(rendered.tile.url)) for rendered in tiles_for(request.user)]
    return render(request, "workbench/home.html", {"tiles": tiles, "page_title": "工作台"})


@login_required
@require_GET
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    user_obj = User.objects.select_related("department__agency", "position").get(pk=user.pk)
    context = {
        "person": user_obj,
        "roles": sorted({g.get_role_display() for g in access.grants_of(user)}),
        "concurrent_posts": user_obj.concurrent_posts.select_related("department__agency", "position"),
        "page_title": "个人信息",
    }
    return render(request, "workbench/profile.html", context)
