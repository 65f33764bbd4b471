"""The platform's own endpoints: who am I (the calling app and, for a user token, the user)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from officeapp.integration.apiview import ApiView
from officeapp.integration.rest import caller


class MeView(ApiView):
    required_scopes: tuple[str, ...] = ()

    @extend_schema(
        summary="当前调用方",
        responses=inline_serializer(
            "Me",
            {
                "app": inline_serializer(
                    "MeApp", {"id": serializers.IntegerField(), "name": serializers.CharField()}
                ),
                "user": inline_serializer(
                    "MeUser",
                    {"id": serializers.IntegerField(), "username": serializers.CharField()},
                    allow_null=True,
                ),
                "scopes": serializers.ListField(child=serializers.CharField()),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        found = caller(request)
        user = found.user
        return Response(
            {
                "app": {"id": found.app.pk, "name": found.app.name},
                "user": {"id": user.pk, "username": user.username} if user is not None else None,
                "scopes": sorted(found.scopes),
            }
        )


def not_found(request: Any, exception: Exception) -> Any:
    """handler404: under /api/ a path that matches no endpoint (/api/v1/documents/abc/) is the API's
    JSON 404 like any other, not the HTML page."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    from officeapp.integration.rest import MSG_NOT_FOUND

    if request.path.startswith("/api/"):
        return JsonResponse({"error": {"code": "not_found", "message": MSG_NOT_FOUND}}, status=404)
    return page_not_found(request, exception)
