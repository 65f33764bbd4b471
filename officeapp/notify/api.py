"""The notification API (/api/v1/notifications/, scope notifications.write): a registered app sends its
users a notice that lands in their bell, live, through `officeapp.notify.services.notify`.

Only the app itself (a client-credentials token) sends: a user token gets 403, since a notice from an
app is the app's word, not a person's. Users are named by their 用户名 (`username`, the
`preferred_username` the app learnt at OIDC sign-in) and must belong to the app's data agencies (its
owner agency when it has none): anyone else is "not found" for the app, and a disabled user is refused.

The link (`url`, http(s) of the app's own page) goes through /api/v1/notifications/open/<signed>: the
bell links only to paths on this site, and the signature means the redirect goes only where an app
asked, never anywhere a crafted link says.

`POST /` sends one notice to its `users`, all or nothing (an unknown user refuses the whole call);
`POST /bulk` sends several, each on its own: the valid ones are sent even when others fail.

`users_for_app` (which users an app may address) is shared with the to-do API (workflows/external_todos.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from officeapp.integration.apiview import ApiView
from officeapp.integration.models import App
from officeapp.integration.rest import caller
from officeapp.notify.models import Notification, Urgency
from officeapp.notify.services import BODY_MAX, TITLE_MAX, notify

MSG_APP_TOKEN_ONLY = "此接口只接受应用自身的令牌（客户端凭证），不接受代表用户的令牌。"  # noqa: S105 - a message
MSG_USER_NOT_FOUND = "用户不存在或不在本应用的范围内。"
MSG_USER_DISABLED = "用户已停用。"
MSG_TOO_MANY = "单次最多 {n} 条。"
MSG_REQUIRED = "必填。"
MSG_NUL = "含有不允许的控制字符。"
MSG_URL = "请填写以 {schemes} 开头的完整链接。"
LINK_SALT = "officeapp.notify.api.open"
# The signed link must fit the notification's url column (500) with its path around it.
URL_MAX = 300
LINK_COLUMN_MAX = Notification._meta.get_field("url").max_length or 500
# Urgency an app may send: the to-dos' three levels, folded into the bell's two.
URGENCY_OF = {"normal": Urgency.NORMAL, "urgent": Urgency.URGENT, "extra_urgent": Urgency.URGENT}


def link_schemes() -> list[str]:
    """Link schemes an app may push: those the OAuth2 provider allows for redirects (https only in
    production; http too for a developer's or a test's app)."""
    return list(settings.OAUTH2_PROVIDER.get("ALLOWED_REDIRECT_URI_SCHEMES", ["https"]))


def clean_link(value: Any, *, max_length: int = 500) -> tuple[str, str | None]:
    """(the link, None) or ("", a Chinese error)."""
    schemes = link_schemes()
    message = MSG_URL.format(schemes=" 或 ".join(f"{s}://" for s in schemes))
    if not isinstance(value, str) or not value.strip():
        return "", message
    value = value.strip()
    if len(value) > max_length:
        return "", f"链接最多 {max_length} 个字符。"
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.netloc or any(c.isspace() or ord(c) < 32 for c in value):
        return "", message
    return value, None


@dataclass(frozen=True)
class AppUser:
    pk: int
    username: str
    is_active: bool


def users_for_app(
    app: App, names: Iterable[str], *, agency_ids: list[int] | None = None
) -> dict[str, AppUser]:
    """The users among `names` (用户名) the app may address, by name, in one query per 2,000 names.
    A name missing from the answer is unknown or outside the app's agencies (the same answer)."""
    # A NUL cannot be in a username, and PostgreSQL refuses it in a query: such a name is unknown.
    wanted = sorted({n for n in names if isinstance(n, str) and n and "\x00" not in n})
    agencies = agency_ids if agency_ids is not None else app.reading_agency_ids()
    found: dict[str, AppUser] = {}
    users = get_user_model().objects
    for start in range(0, len(wanted), 2000):
        rows = users.filter(
            username__in=wanted[start : start + 2000], department__agency_id__in=agencies
        ).values_list("pk", "username", "is_active")
        for pk, username, is_active in rows:
            found[username] = AppUser(pk, username, is_active)
    return found


def user_error(found: AppUser | None) -> tuple[int, str, str] | None:
    """(HTTP status, code, message) when the user cannot receive anything from the app."""
    if found is None:
        return status.HTTP_404_NOT_FOUND, "user_not_found", MSG_USER_NOT_FOUND
    if not found.is_active:
        return status.HTTP_400_BAD_REQUEST, "user_disabled", MSG_USER_DISABLED
    return None


def error_response(code: int, kind: str, message: str, fields: Any = None) -> Response:
    """An error in the API's shape, for the statuses DRF's exceptions cannot carry our message in
    (a 404 about a user rather than an object, 413)."""
    body: dict[str, Any] = {"code": kind, "message": message}
    if fields is not None:
        body["fields"] = fields
    return Response({"error": body}, status=code)


class AppOnlyView(ApiView):
    """An endpoint for the app acting as itself: a user token is refused with 403."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if caller(request).user is not None:
            raise exceptions.PermissionDenied(MSG_APP_TOKEN_ONLY)


# --- notifications ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeInput:
    users: list[str]
    title: str
    body: str
    url: str
    urgency: str


def clean_notice(raw: Any) -> tuple[NoticeInput | None, dict[str, list[str]]]:
    if not isinstance(raw, dict):
        return None, {"non_field_errors": ["每一项应为 JSON 对象。"]}
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(raw) - {"users", "title", "body", "url", "urgency"})
    for name in unknown:
        errors[name] = ["未知字段。"]
    users = raw.get("users")
    if not isinstance(users, list) or not users or not all(isinstance(u, str) and u for u in users):
        errors["users"] = ["请填写接收人的用户名列表。"]
    elif len(users) > settings.API_BULK_MAX_ITEMS:
        errors["users"] = [MSG_TOO_MANY.format(n=settings.API_BULK_MAX_ITEMS)]
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        errors["title"] = [MSG_REQUIRED]
    elif len(title) > TITLE_MAX:
        errors["title"] = [f"标题最多 {TITLE_MAX} 个字。"]
    body = raw.get("body", "")
    if not isinstance(body, str):
        errors["body"] = ["应为文字。"]
    elif len(body) > BODY_MAX:
        errors["body"] = [f"摘要最多 {BODY_MAX} 个字：通知只提示，正文请放在应用里。"]
    url = ""
    if raw.get("url") not in (None, ""):
        url, problem = clean_link(raw.get("url"), max_length=URL_MAX)
        if not problem and len(signed_link(url)) > LINK_COLUMN_MAX:
            # Characters outside ASCII take several bytes each once signed.
            problem = "链接过长。"
        if problem:
            errors["url"] = [problem]
    urgency = raw.get("urgency", "normal")
    if urgency not in URGENCY_OF:
        errors["urgency"] = ["紧急程度只能是 normal、urgent 或 extra_urgent。"]
    for name in ("title", "body"):
        if isinstance(raw.get(name), str) and "\x00" in raw[name] and name not in errors:
            errors[name] = [MSG_NUL]
    if errors:
        return None, errors
    return NoticeInput(
        users=list(dict.fromkeys(users)),
        title=title.strip(),
        body=body.strip(),
        url=url,
        urgency=URGENCY_OF[urgency],
    ), {}


def signed_link(url: str) -> str:
    """The on-site path that sends the reader to the app's page."""
    if not url:
        return ""
    return reverse("api:notifications:open", args=[signing.dumps(url, salt=LINK_SALT, compress=True)])


def send_notice(app: App, notice: NoticeInput, users: list[AppUser]) -> int:
    rows = notify(
        get_user_model().objects.filter(pk__in=[u.pk for u in users], is_active=True),
        kind=f"app.{app.pk}",
        title=notice.title,
        body=notice.body,
        url=signed_link(notice.url),
        urgency=notice.urgency,
    )
    return len(rows)


def _user_failures(names: list[str], found: dict[str, AppUser]) -> list[dict[str, Any]]:
    failures = []
    for name in names:
        problem = user_error(found.get(name))
        if problem:
            failures.append({"user": name, "code": problem[1], "message": problem[2]})
    return failures


def notice_fields() -> dict[str, serializers.Field]:
    """Fresh field instances for each schema serializer: a DRF field binds to one serializer only (the
    bulk body reusing the single body's instances lost its request body in the schema)."""
    return {
        "users": serializers.ListField(child=serializers.CharField(), help_text="接收人的用户名"),
        "title": serializers.CharField(max_length=TITLE_MAX),
        "body": serializers.CharField(max_length=BODY_MAX, required=False, help_text="简短摘要，不放正文"),
        "url": serializers.URLField(required=False, help_text="应用内页面的链接（https）"),
        # Not a ChoiceField: the to-dos' Urgency enum in the schema is the same three values.
        "urgency": serializers.CharField(
            required=False,
            default="normal",
            help_text="normal、urgent 或 extra_urgent（后两者在铃铛中同为紧急）",
        ),
    }


USER_FAILURE = inline_serializer(
    "NotificationUserFailure",
    {"user": serializers.CharField(), "code": serializers.CharField(), "message": serializers.CharField()},
)


class NotificationView(AppOnlyView):
    required_scopes = ("notifications.write",)

    @extend_schema(
        summary="发送通知",
        description=(
            "给本应用范围内的用户（按用户名）发一条通知，进入其铃铛并实时推送。全部接收人有效才发送："
            "有一人不存在、不在本应用范围内（404）或已停用（400），整条不发。只接受应用自身的令牌。"
        ),
        request=inline_serializer("NotificationIn", notice_fields()),
        responses={
            201: inline_serializer("NotificationSent", {"sent": serializers.IntegerField()}),
            400: OpenApiResponse(description="内容无效或接收人已停用"),
            404: OpenApiResponse(description="接收人不存在或不在本应用的范围内"),
        },
    )
    def post(self, request: Request) -> Response:
        app = caller(request).app
        notice, errors = clean_notice(request.data)
        if notice is None:
            raise exceptions.ValidationError(errors)
        found = users_for_app(app, notice.users)
        failures = _user_failures(notice.users, found)
        if failures:
            worst = status.HTTP_404_NOT_FOUND if any(f["code"] == "user_not_found" for f in failures) else 400
            message = MSG_USER_NOT_FOUND if worst == 404 else MSG_USER_DISABLED
            return error_response(worst, failures[0]["code"], message, {"users": failures})
        with transaction.atomic():
            sent = send_notice(app, notice, [found[n] for n in notice.users])
        return Response({"sent": sent}, status=status.HTTP_201_CREATED)


class NotificationBulkView(AppOnlyView):
    required_scopes = ("notifications.write",)

    @extend_schema(
        summary="批量发送通知",
        description=(
            "一次发送多条通知（`items`，接收人合计不超过 API_BULK_MAX_ITEMS，超过则 413）。每条各自校验："
            "有效的照常发送，无效的在结果中给出原因；一条中不存在、不在范围内或已停用的接收人被跳过并列出。"
        ),
        request=inline_serializer(
            "NotificationBulkIn",
            {"items": serializers.ListField(child=inline_serializer("NotificationItem", notice_fields()))},
        ),
        responses={
            200: inline_serializer(
                "NotificationBulkOut",
                {
                    "sent": serializers.IntegerField(help_text="发出的通知条数（按接收人计）"),
                    "results": serializers.ListField(
                        child=inline_serializer(
                            "NotificationBulkResult",
                            {
                                "index": serializers.IntegerField(),
                                "sent": serializers.IntegerField(),
                                "error": serializers.DictField(required=False),
                                "failed_users": serializers.ListField(child=USER_FAILURE, required=False),
                            },
                        )
                    ),
                },
            ),
            413: OpenApiResponse(description="单次条数过多"),
        },
    )
    def post(self, request: Request) -> Response:
        app = caller(request).app
        items = request.data.get("items") if isinstance(request.data, dict) else None
        if not isinstance(items, list):
            raise exceptions.ValidationError({"items": ["请以 items 列表提交。"]})
        limit = settings.API_BULK_MAX_ITEMS
        recipients = sum(len(i.get("users") or []) if isinstance(i, dict) else 1 for i in items)
        if len(items) > limit or recipients > limit:
            return error_response(413, "too_many", MSG_TOO_MANY.format(n=limit))
        cleaned = [clean_notice(raw) for raw in items]
        found = users_for_app(app, [n for notice, _ in cleaned if notice for n in notice.users])
        results: list[dict[str, Any]] = []
        total = 0
        with transaction.atomic():
            for index, (notice, errors) in enumerate(cleaned):
                if notice is None:
                    results.append(
                        {
                            "index": index,
                            "sent": 0,
                            "error": {"code": "invalid", "message": "内容无效。", "fields": errors},
                        }
                    )
                    continue
                failures = _user_failures(notice.users, found)
                good = [found[n] for n in notice.users if user_error(found.get(n)) is None]
                sent = send_notice(app, notice, good) if good else 0
                total += sent
                result: dict[str, Any] = {"index": index, "sent": sent}
                if failures:
                    result["failed_users"] = failures
                results.append(result)
        return Response({"sent": total, "results": results})


@login_required
def open_link(request: HttpRequest, signed: str) -> HttpResponse:
    """A notification's link: to the app's page it was signed for (kept valid for a year)."""
    try:
        url = signing.loads(signed, salt=LINK_SALT, max_age=timedelta(days=366))
    except signing.BadSignature as exc:
        raise Http404("链接无效。") from exc
    return HttpResponseRedirect(url)


urlpatterns = [
    path("", NotificationView.as_view(), name="send"),
    path("bulk", NotificationBulkView.as_view(), name="bulk"),
    path("open/<str:signed>", open_link, name="open"),
]
