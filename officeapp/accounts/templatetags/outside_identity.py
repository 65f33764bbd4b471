"""The sign-in page's 统一身份认证 button: shown only while an OpenID Connect provider is configured."""

from __future__ import annotations

from django import template

from officeapp.accounts import identity

register = template.Library()


@register.simple_tag
def oidc_sign_in_label() -> str:
    """The button's label (OIDC_RP_SIGN_IN_LABEL), or "" when no provider is configured."""
    return identity.oidc_sign_in_label() if identity.oidc_enabled() else ""
