"""TOTP keys, their otpauth URIs and the QR code shown at enrolment (rendered here, never by a web service)."""

from __future__ import annotations

from base64 import b32encode
from binascii import Error as BinasciiError
from binascii import unhexlify

import segno
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from officeapp.org.models import User

KEY_BYTES = 20


def new_key() -> str:
    """A fresh hex secret; kept in the session until the user proves their app holds it."""
    return random_hex(KEY_BYTES)


def secret_text(key: str) -> str:
    """The base32 secret, in groups of four, for typing into an app by hand."""
    raw = b32encode(unhexlify(key)).decode().rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def otpauth_uri(user: User, key: str) -> str:
    # An unsaved device builds the URI exactly as django-otp does for saved ones (issuer, label).
    return TOTPDevice(user=user, key=key).config_url


def qr_svg(uri: str) -> str:
    """Inline SVG of the otpauth URI; no image request leaves the page."""
    return segno.make(uri, error="m").svg_inline(scale=4, border=2, dark="#000", light="#fff")


def matching_step(key: str, token: str) -> int | None:
    """The time step a token belongs to (current one, one before or one after), or None."""
    token = token.strip()
    if not token.isdigit():
        return None
    try:
        totp = TOTP(unhexlify(key))
    except (BinasciiError, ValueError):
        return None
    if totp.verify(int(token), tolerance=1):
        return totp.t()
    return None
