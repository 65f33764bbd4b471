"""Refusals speak Chinese: a clerk who hits a wrong door learns why, not "403 Forbidden"."""

from typing import Any


def test_wrong_role_sees_a_chinese_403_page(cast: Any, sign_in_verified: Any) -> None:
    response = sign_in_verified(cast.drafter).get("/audit/")
    assert response.status_code == 403
    assert "无权访问" in response.content.decode()


def test_missing_object_sees_a_chinese_404_page(cast: Any, sign_in_verified: Any) -> None:
    response = sign_in_verified(cast.drafter).get("/org/people/999999/")
    assert response.status_code == 404
    assert "未找到" in response.content.decode()
