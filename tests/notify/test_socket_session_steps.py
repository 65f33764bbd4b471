"""A socket gets nothing a page would not show: an administrator who has not passed the second factor,
or a user who still owes the first password change, gets no socket; signing out everywhere or being
disabled closes the sockets already open."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from officeapp.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_thread_connections")]


async def _closed_with_4401(headers: list[tuple[bytes, bytes]]) -> bool:
    communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
    await communicator.connect(timeout=5)
    output = await communicator.receive_output(timeout=5)
    await communicator.disconnect()
    return output == {"type": "websocket.close", "code": 4401}


def _verify_second_factor(headers: list[tuple[bytes, bytes]], user: Any) -> None:
    from django.utils.module_loading import import_string
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    session_key = dict(headers)[b"cookie"].decode().split("=", 1)[1]
    store = import_string(settings.SESSION_ENGINE + ".SessionStore")(session_key=session_key)
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="test", defaults={"confirmed": True})
    store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    store.save()


async def test_administrator_without_second_factor_gets_no_socket(cast: Any, socket_headers: Any) -> None:
    headers = await socket_headers(cast.security_admin)
    assert await _closed_with_4401(headers)


async def test_administrator_with_second_factor_gets_a_socket(cast: Any, socket_headers: Any) -> None:
    headers = await socket_headers(cast.security_admin)
    await database_sync_to_async(_verify_second_factor)(headers, cast.security_admin)
    communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    await communicator.disconnect()


async def test_user_who_owes_a_password_change_gets_no_socket(cast: Any, socket_headers: Any) -> None:
    cast.drafter.must_change_password = True
    await database_sync_to_async(cast.drafter.save)(update_fields=["must_change_password"])
    headers = await socket_headers(cast.drafter)
    assert await _closed_with_4401(headers)


@pytest.mark.parametrize("how", ["sign_out_everywhere", "disable"])
async def test_open_socket_is_closed_when_the_sessions_end(cast: Any, socket_headers: Any, how: str) -> None:
    # given: the drafter's tab is connected
    headers = await socket_headers(cast.drafter)
    communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected

    # when: she signs out everywhere, or the 系统管理员 disables her account
    def end() -> None:
        if how == "sign_out_everywhere":
            from officeapp.accounts.services import sign_out_everywhere

            sign_out_everywhere(actor=cast.drafter)
        else:
            from officeapp.org.services import disable_user

            disable_user(cast.drafter, actor=cast.system_admin, successor=cast.dept_head)

    await database_sync_to_async(end)()

    # then: the open socket is closed as unauthenticated (after whatever the disabling itself pushed,
    # such as leaving her 部门群)
    output = await communicator.receive_output(timeout=5)
    while output["type"] == "websocket.send":
        output = await communicator.receive_output(timeout=5)
    assert output == {"type": "websocket.close", "code": 4401}
    await communicator.disconnect()
