"""An app's own event subscriptions through the API (mounted at /api/v1/webhooks/, scope webhooks.manage).

The app acts as itself (client-credentials token): it lists, creates and deletes its own subscriptions,
lists their deliveries and replays one. A user token is refused (403): subscriptions belong to the app,
and people manage them on the 事件订阅 pages. Another app's subscription or delivery is the same 404
as a missing one. The secret is in the answer to the POST that creates a subscription, never again.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from officeapp.integration import webhook_services
from officeapp.integration.apiview import ApiView
from officeapp.integration.events import EVENTS
from officeapp.integration.models import App, DeliveryStatus, WebhookDelivery, WebhookSubscription
from officeapp.integration.rest import caller
from officeapp.integration.webhook_services import Acting

SCOPE = "webhooks.manage"
MSG_APP_ONLY = "事件订阅只能由应用自身的令牌（client credentials）管理。"


class SubscriptionSerializer(serializers.ModelSerializer[WebhookSubscription]):
    events = serializers.ListField(child=serializers.ChoiceField(choices=list(EVENTS)))

    class Meta:
        model = WebhookSubscription
        fields = ["id", "url", "events", "is_active", "created_at"]
        read_only_fields = ["id", "is_active", "created_at"]


class CreatedSubscriptionSerializer(SubscriptionSerializer):
    secret = serializers.CharField(read_only=True, help_text="签名密钥，只在创建时返回一次。")

    class Meta(SubscriptionSerializer.Meta):
        fields = [*SubscriptionSerializer.Meta.fields, "secret"]


class DeliverySerializer(serializers.ModelSerializer[WebhookDelivery]):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "subscription",
            "event_type",
            "event_id",
            "status",
            "attempts",
            "next_attempt_at",
            "created_at",
            "delivered_at",
            "last_status_code",
            "last_error",
        ]


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def _own_app(request: Request) -> App:
    found = caller(request)
    if found.user is not None:
        raise exceptions.PermissionDenied(MSG_APP_ONLY)
    return found.app


def _refused(exc: ValidationError) -> exceptions.ValidationError:
    return exceptions.ValidationError({"non_field_errors": [exc.message]})


class SubscriptionList(ApiView, generics.ListCreateAPIView):
    required_scopes = (SCOPE,)
    serializer_class = SubscriptionSerializer

    def get_queryset(self) -> QuerySet[WebhookSubscription]:
        return WebhookSubscription.objects.filter(app=_own_app(self.request))

    @extend_schema(summary="列出本应用的事件订阅")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="新增事件订阅",
        request=SubscriptionSerializer,
        responses={201: CreatedSubscriptionSerializer},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        app = _own_app(request)
        incoming = SubscriptionSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            sub, secret = webhook_services.subscribe(
                app,
                acting=Acting(user=None, app=app),
                url=incoming.validated_data["url"],
                events=incoming.validated_data["events"],
            )
        except webhook_services.WebhookError as exc:
            raise _refused(exc) from None
        data = {**SubscriptionSerializer(sub).data, "secret": secret}
        return Response(data, status=status.HTTP_201_CREATED)


class SubscriptionDetail(ApiView, generics.RetrieveDestroyAPIView):
    required_scopes = (SCOPE,)
    serializer_class = SubscriptionSerializer
    lookup_url_kwarg = "subscription_id"

    def get_queryset(self) -> QuerySet[WebhookSubscription]:
        return WebhookSubscription.objects.filter(app=_own_app(self.request)).select_related("app")

    @extend_schema(summary="查看事件订阅")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(summary="删除事件订阅", responses={204: None})
    def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        app = _own_app(request)
        webhook_services.unsubscribe(self.get_object(), acting=Acting(user=None, app=app))
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeliveryList(ApiView, generics.ListAPIView):
    required_scopes = (SCOPE,)
    serializer_class = DeliverySerializer

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        rows = WebhookDelivery.objects.filter(subscription__app=_own_app(self.request))
        wanted = self.request.query_params.get("status")
        if wanted:
            if wanted not in DeliveryStatus.values:
                raise exceptions.ValidationError(
                    {"status": [f"应为 {'、'.join(DeliveryStatus.values)} 之一。"]}
                )
            rows = rows.filter(status=wanted)
        subscription = self.request.query_params.get("subscription")
        if subscription:
            if not subscription.isdigit() or int(subscription) > 2**63 - 1:
                raise exceptions.ValidationError({"subscription": ["应为订阅编号。"]})
            rows = rows.filter(subscription_id=int(subscription))
        return rows

    @extend_schema(
        summary="列出本应用的投递记录",
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=list(DeliveryStatus.values)),
            OpenApiParameter("subscription", OpenApiTypes.INT),
        ],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class DeliveryReplay(ApiView):
    required_scopes = (SCOPE,)
    # The body is ignored: whatever a client sends with its empty POST (a form type, say) is accepted.
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(summary="重新投递", request=None, responses={202: DeliverySerializer, 409: None})
    def post(self, request: Request, delivery_id: int) -> Response:
        app = _own_app(request)
        delivery = get_object_or_404(
            WebhookDelivery.objects.select_related("subscription__app"), subscription__app=app, pk=delivery_id
        )
        try:
            delivery = webhook_services.replay(delivery, acting=Acting(user=None, app=app))
        except webhook_services.WebhookError as exc:
            raise Conflict(exc.message) from None
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


urlpatterns = [
    path("subscriptions/", SubscriptionList.as_view(), name="subscriptions"),
    path("subscriptions/<int:subscription_id>/", SubscriptionDetail.as_view(), name="subscription"),
    path("deliveries/", DeliveryList.as_view(), name="deliveries"),
    path("deliveries/<int:delivery_id>/replay/", DeliveryReplay.as_view(), name="replay"),
]
