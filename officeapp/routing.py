from django.urls import path  # noqa: F401

# The /ws/ endpoint is added by officeapp.notify (one socket per tab, event types routed by registry).
websocket_urlpatterns: list = []
