"""Constants and TOTP code helpers shared by the accounts tests."""

from __future__ import annotations

from binascii import unhexlify

from django_otp.oath import totp

SIGN_IN_URL = "/accounts/sign-in/"


def code_for_key(hex_key: str, offset_steps: int = 0) -> str:
    """The code an authenticator app shows now for a hex key (offset: steps later or earlier)."""
    return f"{totp(unhexlify(hex_key), drift=offset_steps):06d}"
