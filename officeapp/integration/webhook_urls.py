"""事件订阅 pages under /integration/webhooks/ (namespace "webhooks"), per app."""

from __future__ import annotations

from django.urls import URLPattern, path

from officeapp.integration import webhook_views as views

app_name = "webhooks"
urlpatterns: list[URLPattern] = [
    path("app/<int:app_id>/", views.subscriptions, name="app"),
    path("app/<int:app_id>/subscribe/", views.subscribe, name="subscribe"),
    path("app/<int:app_id>/subscriptions/<int:subscription_id>/rotate/", views.rotate, name="rotate"),
    path("app/<int:app_id>/subscriptions/<int:subscription_id>/pause/", views.pause, name="pause"),
    path("app/<int:app_id>/subscriptions/<int:subscription_id>/resume/", views.resume, name="resume"),
    path("app/<int:app_id>/subscriptions/<int:subscription_id>/delete/", views.delete, name="delete"),
    path("app/<int:app_id>/deliveries/", views.deliveries, name="deliveries"),
    path("app/<int:app_id>/deliveries/<int:delivery_id>/", views.delivery, name="delivery"),
    path("app/<int:app_id>/deliveries/<int:delivery_id>/replay/", views.replay, name="replay"),
]
