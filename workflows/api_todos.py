"""The to-do API (/api/v1/todos/, scope todos.write): a registered app pushes its own to-dos into its
users' unified inbox (待办) and changes them. Thin views over workflows/external_todos.py.

Only the app itself calls it (client-credentials token); a user token gets 403. Each app sees and
changes only its own to-dos, named by its own `external_id`.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from documents.models import Urgency
from officeapp.integration.rest import IdCursorPagination, caller
from officeapp.notify.api import AppOnlyView, error_response
from workflows import external_todos as todos
from workflows.models_external import ExternalTodoStatus

TODO_FIELDS = {
    "external_id": serializers.CharField(
        max_length=todos.ID_MAX, help_text="应用内的待办编号（幂等键，应用内唯一）"
    ),
    "user": serializers.CharField(help_text="办理人的用户名（须属于本应用的数据范围单位）"),
    "title": serializers.CharField(max_length=todos.TITLE_MAX),
    "url": serializers.URLField(max_length=todos.URL_MAX, help_text="应用内办理页面的链接，在新窗口打开"),
    "urgency": serializers.ChoiceField(choices=Urgency.choices, required=False, default=Urgency.NORMAL),
    "deadline": serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="办理时限：ISO 8601 时间或日期（日期指当天结束），不带时区按北京时间",
    ),
}
TodoIn = inline_serializer("ExternalTodoIn", TODO_FIELDS)
TodoOut = inline_serializer(
    "ExternalTodo",
    {
        **TODO_FIELDS,
        "status": serializers.ChoiceField(choices=ExternalTodoStatus.choices),
        "created_at": serializers.DateTimeField(),
        "updated_at": serializers.DateTimeField(),
        "completed_at": serializers.DateTimeField(allow_null=True),
    },
)
TodoChanges = inline_serializer(
    "ExternalTodoChanges",
    {
        "title": serializers.CharField(required=False),
        "url": serializers.URLField(required=False),
        "urgency": serializers.ChoiceField(choices=Urgency.choices, required=False),
        "deadline": serializers.DateTimeField(required=False, allow_null=True),
    },
)
ERROR = OpenApiResponse(description='{"error": {"code", "message"}}，消息为中文')


class TodoApiView(AppOnlyView):
    required_scopes = ("todos.write",)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, todos.TodoConflict):
            return error_response(status.HTTP_409_CONFLICT, "conflict", exc.message)
        if isinstance(exc, todos.TodoInvalid):
            exc = exceptions.ValidationError(exc.fields)
        return super().handle_exception(exc)


def _item_error(result: todos.ItemResult) -> Response:
    if result.code == "invalid":
        raise exceptions.ValidationError(result.fields)
    return error_response(result.http, result.code, result.message)


class TodoListView(TodoApiView):
    @extend_schema(
        summary="推送待办（新建或更新）",
        description=(
            "按 external_id 新建或更新本应用的一条待办：首次 201，之后 200（内容相同则不改动）。"
            "同一编号已属于其他用户：409。办理人不存在或不在本应用范围内：404；已停用：400。"
            "推送不改变待办状态（已办的不会重新打开）。"
        ),
        request=TodoIn,
        responses={201: TodoOut, 200: TodoOut, 400: ERROR, 404: ERROR, 409: ERROR},
    )
    def post(self, request: Request) -> Response:
        app = caller(request).app
        [result] = todos.push_todos(app, [request.data])
        if result.status == "error":
            return _item_error(result)
        todo = todos.todo_for_app(app, result.external_id)
        return Response(todos.as_json(todo), status=result.http)

    @extend_schema(
        summary="本应用的待办",
        operation_id="todos_list",
        parameters=[
            OpenApiParameter("status", enum=ExternalTodoStatus.values, required=False),
            OpenApiParameter("user", str, required=False, description="办理人的用户名"),
        ],
        responses={
            200: inline_serializer(
                "ExternalTodoPage",
                {
                    "next": serializers.URLField(allow_null=True),
                    "previous": serializers.URLField(allow_null=True),
                    "results": serializers.ListField(child=TodoOut),
                },
            )
        },
    )
    def get(self, request: Request) -> Response:
        rows = todos.todos_for_app(caller(request).app)
        wanted = request.query_params.get("status")
        if wanted:
            if wanted not in ExternalTodoStatus.values:
                raise exceptions.ValidationError({"status": ["状态只能是 open、done 或 cancelled。"]})
            rows = rows.filter(status=wanted)
        user = request.query_params.get("user")
        if user and "\x00" in user:
            rows = rows.none()
        elif user:
            rows = rows.filter(user__username=user)
        paginator = IdCursorPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response([todos.as_json(t) for t in page or []])


BulkResult = inline_serializer(
    "ExternalTodoBulkResult",
    {
        "index": serializers.IntegerField(),
        "external_id": serializers.CharField(),
        "status": serializers.ChoiceField(choices=["created", "updated", "unchanged", "error"]),
        "error": serializers.DictField(
            required=False, help_text="code、message（中文），内容无效时另有 fields"
        ),
    },
)


class TodoBulkView(TodoApiView):
    @extend_schema(
        summary="批量推送待办",
        description=(
            "一次推送多条待办（`items`，每条与单条推送相同），至多 API_BULK_MAX_ITEMS 条（默认 5000，超过则 413"
            "「单次最多 N 条。」）。每条各自校验：有效的照常写入，即使其他条目失败；结果按提交顺序逐条给出"
            "（created / updated / unchanged / error 及中文原因）。同一请求中重复的编号只取第一条。"
        ),
        request=inline_serializer("ExternalTodoBulkIn", {"items": serializers.ListField(child=TodoIn)}),
        responses={
            200: inline_serializer(
                "ExternalTodoBulkOut",
                {
                    "created": serializers.IntegerField(),
                    "updated": serializers.IntegerField(),
                    "unchanged": serializers.IntegerField(),
                    "failed": serializers.IntegerField(),
                    "results": serializers.ListField(child=BulkResult),
                },
            ),
            400: ERROR,
            413: ERROR,
        },
    )
    def post(self, request: Request) -> Response:
        items = request.data.get("items") if isinstance(request.data, dict) else None
        if not isinstance(items, list):
            raise exceptions.ValidationError({"items": ["请以 items 列表提交。"]})
        limit = settings.API_BULK_MAX_ITEMS
        if len(items) > limit:
            return error_response(413, "too_many", todos.MSG_TOO_MANY.format(n=limit))
        results = todos.push_todos(caller(request).app, items)
        tally = {"created": 0, "updated": 0, "unchanged": 0, "error": 0}
        for result in results:
            tally[result.status] += 1
        return Response(
            {
                "created": tally["created"],
                "updated": tally["updated"],
                "unchanged": tally["unchanged"],
                "failed": tally["error"],
                "results": [r.as_json() for r in results],
            }
        )


class TodoDetailView(TodoApiView):
    @extend_schema(summary="一条待办", responses={200: TodoOut, 404: ERROR})
    def get(self, request: Request, external_id: str) -> Response:
        return Response(todos.as_json(todos.todo_for_app(caller(request).app, external_id)))

    @extend_schema(summary="修改待办", request=TodoChanges, responses={200: TodoOut, 400: ERROR, 404: ERROR})
    def patch(self, request: Request, external_id: str) -> Response:
        return Response(todos.as_json(todos.update_todo(caller(request).app, external_id, request.data)))

    @extend_schema(summary="删除待办", responses={204: None, 404: ERROR})
    def delete(self, request: Request, external_id: str) -> Response:
        todos.delete_todo(caller(request).app, external_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TodoCompleteView(TodoApiView):
    @extend_schema(
        summary="办结待办",
        description="待办移入办理人的已办。重复调用无害；已撤销的不能办结（409）。",
        request=None,
        responses={200: TodoOut, 404: ERROR, 409: ERROR},
    )
    def post(self, request: Request, external_id: str) -> Response:
        return Response(todos.as_json(todos.complete_todo(caller(request).app, external_id)))


class TodoCancelView(TodoApiView):
    @extend_schema(
        summary="撤销待办",
        description="待办从办理人的待办中消失。重复调用无害；已办结的不能撤销（409）。",
        request=None,
        responses={200: TodoOut, 404: ERROR, 409: ERROR},
    )
    def post(self, request: Request, external_id: str) -> Response:
        return Response(todos.as_json(todos.cancel_todo(caller(request).app, external_id)))


# external_id is the app's own, up to 128 characters of anything but "/" (its URL path segment).
urlpatterns = [
    path("", TodoListView.as_view(), name="list"),
    path("bulk", TodoBulkView.as_view(), name="bulk"),
    path("<str:external_id>/", TodoDetailView.as_view(), name="detail"),
    path("<str:external_id>/complete", TodoCompleteView.as_view(), name="complete"),
    path("<str:external_id>/cancel", TodoCancelView.as_view(), name="cancel"),
]
