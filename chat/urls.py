from __future__ import annotations

from django.urls import URLPattern

from chat.urls_admin import urlpatterns as admin_urlpatterns

app_name = "chat"

urlpatterns: list[URLPattern] = [*admin_urlpatterns]
