"""The channel layer's health check is registered and does a real round trip."""

from __future__ import annotations

import pytest
from django.test import override_settings

from officeapp.notify.health import check_channel_layer
from officeapp.registries import health_checks


def test_channel_layer_check_is_registered_for_healthz():
    assert health_checks.get("channel_layer") is check_channel_layer


def test_channel_layer_check_passes_on_the_configured_layer():
    check_channel_layer()  # raises on failure


def test_channel_layer_check_fails_when_redis_is_unreachable():
    from channels.layers import channel_layers

    broken = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            # Port 9 (discard) on loopback: nothing listens, so the connection is refused at once.
            "CONFIG": {"hosts": ["redis://127.0.0.1:9/0"]},
        }
    }
    with override_settings(CHANNEL_LAYERS=broken):
        channel_layers.backends.pop("default", None)
        try:
            with pytest.raises(Exception):  # noqa: B017 - any failure must surface as a failed check
                check_channel_layer()
        finally:
            channel_layers.backends.pop("default", None)
