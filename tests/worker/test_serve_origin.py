"""`make run PORT=9000` must still accept the browser's socket and forms from http://127.0.0.1:9000."""

from officeapp.management.commands.serve import _env_with_own_origin


def test_serve_adds_its_own_origin_to_both_allowlists() -> None:
    env = _env_with_own_origin({}, "127.0.0.1", 9000)
    assert "http://127.0.0.1:9000" in env["CSRF_TRUSTED_ORIGINS"].split(",")
    assert "http://127.0.0.1:9000" in env["WEBSOCKET_ALLOWED_ORIGINS"].split(",")
    assert "http://127.0.0.1:8000" in env["CSRF_TRUSTED_ORIGINS"].split(",")


def test_explicit_origins_from_the_environment_win() -> None:
    env = _env_with_own_origin({"WEBSOCKET_ALLOWED_ORIGINS": "https://oa.example"}, "127.0.0.1", 9000)
    assert env["WEBSOCKET_ALLOWED_ORIGINS"] == "https://oa.example"
