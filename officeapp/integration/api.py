"""The platform's own endpoints: who am I (the calling app and, for a user token, the user)."""

from __future__ import annotations

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
