"""Websocket routes: the one /ws/ endpoint (officeapp.notify.consumers); event types are routed
inside it through officeapp.registries.socket_handlers, so apps add handlers, not routes."""

from django.urls import path

from officeapp.notify.consumers import SocketConsumer

websocket_urlpatterns = [
    path("ws/", SocketConsumer.as_asgi()),
]
