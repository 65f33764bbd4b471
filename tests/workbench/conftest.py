from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def sign_in(sign_in: Any) -> Any:
    """The cast's sign-in, with the second factor passed: the three administrators must verify it
    before any page, and these tests are about the workbench, not about sign-in."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    def _sign_in(user: Any) -> Any:
        client = sign_in(user)
        device, _ = TOTPDevice.objects.get_or_create(user=user, name="test", defaults={"confirmed": True})
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client

    return _sign_in
