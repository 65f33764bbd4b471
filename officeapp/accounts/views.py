"""Sign-in, sign-out, password, TOTP and the 安全管理员's page: parse → access → one service → render."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from officeapp.access import admin_role_of
from officeapp.accounts import access, services, totp
from officeapp.accounts.forms import (
    DirectoryPolicyForm,
    GrantForm,
    PasswordChangeForm,
    SignInForm,
    TokenForm,
    TotpResetForm,
)
from officeapp.accounts.middleware import ENDED_ELSEWHERE, ENDED_TIMEOUT, SESSION_ENDED, start_session
from officeapp.org.models import DirectoryFieldPolicy, Role

BACKEND = "officeapp.accounts.backends.LockoutAwareBackend"
PENDING_TOTP_KEY = "officeapp_totp_pending"
ENDED_NOTICES = {
    ENDED_TIMEOUT: "会话已超时，请重新登录。",
    ENDED_ELSEWHERE: "您已在所有设备上退出登录，请重新登录。",
}


def _next_url(request: HttpRequest) -> str:
    """Where to go after a step: a local `next`, else the workbench; never another site."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


# --- Sign-in and sign-out -------------------------------------------------------------------


@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if request.method == "GET" and request.user.is_authenticated:
        return redirect(_next_url(request))
    notice = ENDED_NOTICES.get(request.session.pop(SESSION_ENDED, ""), "")
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = services.attempt_sign_in(
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
            client_address=getattr(request, "client_address", None),
        )
        if outcome.user is not None:
            login(request, outcome.user, backend=BACKEND)
            start_session(request.session, outcome.user, otp_required=services.otp_required(outcome.user))
            # The session policy sends administrators on to TOTP and first-timers to the password page.
            return redirect(_next_url(request))
        form.add_error(None, outcome.message)
    return render(
        request,
        "accounts/sign_in.html",
        {
            "form": form,
            "notice": notice,
            "next": request.POST.get("next") or request.GET.get("next", ""),
            "max_failures": settings.SIGN_IN_MAX_FAILURES,
            "lock_minutes": settings.SIGN_IN_LOCK_MINUTES,
            "page_title": "登录",
        },
    )


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        services.sign_out(actor=request.user)  # type: ignore[arg-type]
        logout(request)
    messages.info(request, "您已退出登录。")
    return redirect("accounts:sign_in")


@require_POST
@login_required
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    services.sign_out_everywhere(actor=request.user)  # type: ignore[arg-type]
    logout(request)
    messages.info(request, "您已在所有设备上退出登录。")
    return redirect("accounts:sign_in")


# --- Password --------------------------------------------------------------------------------


@sensitive_post_parameters()
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def change_password(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_password(actor=request.user, new_password=form.cleaned_data["new_password1"])  # type: ignore[arg-type]
        except services.AccountsRefused as refused:
            form.add_error("new_password1", refused.message)
        else:
            # Keep this session; every other session of the user ends with the old password hash.
            update_session_auth_hash(request, request.user)
            messages.success(request, "密码已修改。")
            return redirect(_next_url(request))
    return render(
        request,
        "accounts/change_password.html",
        {
            "form": form,
            "forced": request.user.must_change_password,  # type: ignore[union-attr]
            "next": request.POST.get("next") or request.GET.get("next", ""),
            "page_title": "修改密码",
        },
    )


# --- TOTP ------------------------------------------------------------------------------------


def _enrolment(request: HttpRequest) -> dict[str, Any]:
    """The QR code and secret of the key pending in this session (made on first view)."""
    key = request.session.get(PENDING_TOTP_KEY)
    if not key:
        key = totp.new_key()
        request.session[PENDING_TOTP_KEY] = key
    uri = totp.otpauth_uri(request.user, key)  # type: ignore[arg-type]
    return {"qr_svg": mark_safe(totp.qr_svg(uri)), "secret": totp.secret_text(key), "otpauth_uri": uri}  # noqa: S308


def _enrol(request: HttpRequest, form: TokenForm) -> bool:
    """Confirm the pending key with a code; on success the session counts as verified."""
    key = request.session.get(PENDING_TOTP_KEY)
    if not key:
        form.add_error("token", "二维码已失效，请重新扫描下方二维码。")
        return False
    outcome = services.enrol_totp(actor=request.user, key=key, token=form.cleaned_data["token"])  # type: ignore[arg-type]
    if outcome.device is None:
        form.add_error("token", outcome.message)
        return False
    del request.session[PENDING_TOTP_KEY]
    otp_login(request, outcome.device)
    return True


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """Everyone's TOTP page: enrol, or see that it is on (and, if not an administrator, turn it off)."""
    device = services.confirmed_device(request.user)  # type: ignore[arg-type]
    form = TokenForm(request.POST or None)
    if request.method == "POST" and device is None and form.is_valid() and _enrol(request, form):
        messages.success(request, "动态验证码已启用，今后登录时需要输入。")
        return redirect("accounts:two_factor")
    context: dict[str, Any] = {
        "device": device,
        "form": form,
        "page_title": "动态验证码",
        "is_admin": admin_role_of(request.user) is not None,
    }
    if device is None:
        context.update(_enrolment(request))
    return render(request, "accounts/two_factor.html", context)


@login_required
@require_POST
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            outcome = services.disable_totp(actor=request.user, token=form.cleaned_data["token"])  # type: ignore[arg-type]
        except services.AccountsRefused as refused:
            messages.error(request, refused.message)
        else:
            if outcome.device is not None:
                messages.success(request, "动态验证码已停用。")
            else:
                messages.error(request, outcome.message)
    else:
        messages.error(request, "请输入 6 位动态验证码。")
    return redirect("accounts:two_factor")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def verify_otp(request: HttpRequest) -> HttpResponse:
    """The second step of sign-in: show a code, or (an administrator without one) enrol first."""
    next_url = _next_url(request)
    if request.user.is_verified():  # type: ignore[union-attr]
        return redirect(next_url)
    device = services.confirmed_device(request.user)  # type: ignore[arg-type]
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device is None:
            if _enrol(request, form):
                messages.success(request, "动态验证码已启用。")
                return redirect(next_url)
        else:
            outcome = services.verify_totp(actor=request.user, token=form.cleaned_data["token"])  # type: ignore[arg-type]
            if outcome.device is not None:
                otp_login(request, outcome.device)
                return redirect(next_url)
            form.add_error("token", outcome.message)
    context: dict[str, Any] = {
        "device": device,
        "form": form,
        "page_title": "身份验证",
        "next": request.POST.get("next") or request.GET.get("next", ""),
    }
    if device is None:
        context.update(_enrolment(request))
    return render(request, "accounts/verify_otp.html", context)


# --- 安全管理员: role grants and the address-book policy ---------------------------------------


def _security_page(
    request: HttpRequest,
    *,
    grant_form: GrantForm | None = None,
    policy_form: DirectoryPolicyForm | None = None,
    totp_form: TotpResetForm | None = None,
) -> HttpResponse:
    # NUL is no character of a name, and PostgreSQL refuses it in a query.
    query = request.GET.get("q", "").replace("\x00", "").strip()[:150]
    role = request.GET.get("role", "")
    if role not in dict(Role.choices):
        role = ""
    grants = access.visible_grants(request.user, query=query, role=role)
    page = Paginator(grants, 50).get_page(request.GET.get("page"))
    current = dict(DirectoryFieldPolicy.objects.values_list("field", "visibility"))
    return render(
        request,
        "accounts/security.html",
        {
            "page": page,
            "query": query,
            "role": role,
            "roles": Role.choices,
            "grant_form": grant_form or GrantForm(),
            "policy_form": policy_form or DirectoryPolicyForm(current=current),
            "totp_form": totp_form or TotpResetForm(),
            "page_title": "安全策略",
        },
    )


@login_required
@require_http_methods(["GET"])
def security(request: HttpRequest) -> HttpResponse:
    access.require_security_admin(request.user)
    return _security_page(request)


@login_required
@require_POST
def security_grant(request: HttpRequest) -> HttpResponse:
    access.require_security_admin(request.user)
    form = GrantForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.grant_role(
                actor=request.user,
                user=data["user"],
                role=data["role"],  # type: ignore[arg-type]
                agency=data["agency"],
                department=data["department"],
            )
        except services.AccountsRefused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, f"已授予 {data['user']} {dict(Role.choices)[data['role']]} 角色。")
            return redirect("accounts:security")
    return _security_page(request, grant_form=form)


@login_required
@require_POST
def security_revoke(request: HttpRequest, grant_id: int) -> HttpResponse:
    grant = access.get_grant_for(request.user, grant_id)
    try:
        services.revoke_role(actor=request.user, grant=grant)  # type: ignore[arg-type]
    except services.AccountsRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, f"已撤销 {grant.user} 的 {grant.get_role_display()} 角色。")
    return redirect("accounts:security")


@login_required
@require_POST
def security_reset_totp(request: HttpRequest) -> HttpResponse:
    access.require_security_admin(request.user)
    form = TotpResetForm(request.POST)
    if form.is_valid():
        try:
            services.reset_totp(actor=request.user, user=form.user)  # type: ignore[arg-type]
        except services.AccountsRefused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(
                request, f"已重置 {form.user} 的动态验证码，其所有会话已结束；下次登录时须重新绑定。"
            )
            return redirect("accounts:security")
    return _security_page(request, totp_form=form)


@login_required
@require_POST
def security_policy(request: HttpRequest) -> HttpResponse:
    access.require_security_admin(request.user)
    current = dict(DirectoryFieldPolicy.objects.values_list("field", "visibility"))
    form = DirectoryPolicyForm(request.POST, current=current)
    if form.is_valid():
        try:
            changed = services.set_directory_policy(actor=request.user, visibility=form.cleaned_data)  # type: ignore[arg-type]
        except services.AccountsRefused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, "通讯录字段可见范围已保存。" if changed else "可见范围没有变化。")
            return redirect("accounts:security")
    return _security_page(request, policy_form=form)


# --- 统一身份认证 (an outside OpenID Connect provider; officeapp.accounts.oidc_backend) -------------


@never_cache
@require_http_methods(["GET"])
def oidc_sign_in(request: HttpRequest) -> HttpResponse:
    """To the provider's sign-in page; 404 while no provider is configured (OIDC_RP_CLIENT_ID)."""
    from officeapp.accounts import identity, oidc_backend

    if not identity.oidc_enabled():
        raise Http404
    return oidc_backend.start_oidc_sign_in(request)


@never_cache
@require_http_methods(["GET"])
def oidc_callback(request: HttpRequest) -> HttpResponse:
    """Back from the provider: the code is exchanged, the ID token verified, the user matched."""
    from officeapp.accounts import identity, oidc_backend

    if not identity.oidc_enabled():
        raise Http404
    return oidc_backend.OidcCallbackView.as_view()(request)
