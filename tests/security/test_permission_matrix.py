"""The permission matrix: every URL pattern, every member of the cast, the status each must get.

A URL added without an entry here fails `test_every_url_pattern_has_a_matrix_entry`, so nobody ships
a page whose access nobody thought about. Conventions the matrix pins down:
- anonymous visitors are sent to sign-in (302), except the sign-in page and /healthz;
- a signed-in user with the wrong role gets 403 on a page; an object that is missing or not theirs
  gets 404 (the same answer, so an id tells an outsider nothing);
- the 审计管理员 reaches the audit log and their own account pages, nothing else.
Administrators are signed in with the second factor passed (they cannot reach any page without it;
tests/accounts proves that).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse

from tests.conftest import CAST_USERS
from tests.security.matrix_setup import area_modules, matrix_objects

USERS = ["anonymous", *CAST_USERS]

# name -> (method, {who: status}); "*" is every signed-in member not named.
MATRIX: dict[str, tuple[str, dict[str, int]]] = {
    "workbench:home": ("get", {"anonymous": 302, "*": 200, "audit_admin": 302}),
    "workbench:profile": ("get", {"anonymous": 302, "*": 200}),
    "accounts:sign_in": ("get", {"anonymous": 200, "*": 302}),
    "accounts:sign_out": ("post", {"anonymous": 302, "*": 302}),
    "accounts:sign_out_everywhere": ("post", {"anonymous": 302, "*": 302}),
    "accounts:change_password": ("get", {"anonymous": 302, "*": 200}),
    "accounts:two_factor": ("get", {"anonymous": 302, "*": 200}),
    "accounts:two_factor_disable": ("post", {"anonymous": 302, "*": 302}),
    "accounts:verify_otp": ("get", {"anonymous": 302, "*": 302}),
    "accounts:security": ("get", {"anonymous": 302, "*": 403, "security_admin": 200}),
    "accounts:security_grant": ("post", {"anonymous": 302, "*": 403, "security_admin": 200}),
    "accounts:security_revoke": ("post", {"anonymous": 302, "*": 403, "security_admin": 302}),
    # Empty form from the security admin: re-rendered with "请输入用户名。"
    "accounts:security_reset_totp": ("post", {"anonymous": 302, "*": 403, "security_admin": 200}),
    "accounts:security_policy": ("post", {"anonymous": 302, "*": 403, "security_admin": 200}),
    "org:directory": ("get", {"anonymous": 302, "*": 200, "audit_admin": 403}),
    "org:directory_search": ("get", {"anonymous": 302, "*": 302, "audit_admin": 403}),
    "org:people_lookup": ("get", {"anonymous": 302, "*": 200, "audit_admin": 403}),
    "org:directory_agency": ("get", {"anonymous": 302, "*": 200, "audit_admin": 403}),
    "org:directory_department": ("get", {"anonymous": 302, "*": 200, "audit_admin": 403}),
    "org:person": ("get", {"anonymous": 302, "*": 200, "audit_admin": 403}),
    "org:manage": ("get", {"anonymous": 302, "*": 403, "system_admin": 200}),
    "org:import_template": ("get", {"anonymous": 302, "*": 403, "system_admin": 200}),
    "org:manage_agency": ("get", {"anonymous": 302, "*": 403, "system_admin": 200}),
    "org:manage_children": ("get", {"anonymous": 302, "*": 403, "system_admin": 200}),
    "org:agency_edit": ("get", {"anonymous": 302, "*": 403, "system_admin": 200}),
    "org:agency_create": ("get", {"anonymous": 302, "*": 403, "system_admin": 200}),
    "org:positions": ("get", {"anonymous": 302, "*": 403, "system_admin": 200}),
    "org:department_create": ("get", {"anonymous": 302, "*": 403, "system_admin": 200}),
    "org:user_create": ("get", {"anonymous": 302, "*": 403, "system_admin": 200}),
    "org:import": ("get", {"anonymous": 302, "*": 403, "system_admin": 200}),
    "org:export": ("get", {"anonymous": 302, "*": 403, "system_admin": 200}),
    "org:portfolios": ("get", {"anonymous": 302, "*": 403, "system_admin": 200}),
    "org:portfolio_remove": ("post", {"anonymous": 302, "*": 403, "system_admin": 302}),
    "org:department_edit": ("get", {"anonymous": 302, "*": 403, "system_admin": 200}),
    "org:user_edit": ("get", {"anonymous": 302, "*": 403, "system_admin": 200}),
    "org:concurrent_post_add": ("post", {"anonymous": 302, "*": 403, "system_admin": 302}),
    "org:concurrent_post_remove": ("post", {"anonymous": 302, "*": 403, "system_admin": 302}),
    "org:user_disable": ("get", {"anonymous": 302, "*": 403, "system_admin": 200}),
    "org:user_enable": ("post", {"anonymous": 302, "*": 403, "system_admin": 302}),
    "org:user_transfer": ("get", {"anonymous": 302, "*": 403, "system_admin": 200}),
    "org:user_reset_password": ("post", {"anonymous": 302, "*": 403, "system_admin": 200}),
    # Everyone keeps their own 委托; a delegation is revoked by the one who gave it.
    "org:delegations": ("get", {"anonymous": 302, "*": 200}),
    # The delegate (drafter) sees it but may not revoke it: 403; everyone else: 404.
    "org:delegation_revoke": ("post", {"anonymous": 302, "*": 404, "dept_head": 302, "drafter": 403}),
    "audit:events": ("get", {"anonymous": 302, "*": 403, "audit_admin": 200}),
    "audit:export": ("post", {"anonymous": 302, "*": 403, "audit_admin": 400}),
    "notify:list": ("get", {"anonymous": 302, "*": 200}),
    # The notification is the drafter's: anyone else gets the same 404 as for a missing one.
    "notify:mark_read": ("post", {"anonymous": 302, "*": 404, "drafter": 302}),
    "notify:mark_all_read": ("post", {"anonymous": 302, "*": 302}),
    # No referrer claims the blob: nobody may download it, and nobody learns that it exists.
    "blobs:download": ("get", {"anonymous": 302, "*": 404}),
    "calendar:manage": ("get", {"anonymous": 302, "*": 403, "system_admin": 200}),
    "calendar:add_day": ("post", {"anonymous": 302, "*": 403, "system_admin": 400}),
    "calendar:remove_day": ("post", {"anonymous": 302, "*": 403, "system_admin": 302}),
    "calendar:mark_year": ("post", {"anonymous": 302, "*": 403, "system_admin": 302}),
    "healthz": ("get", {"anonymous": 200, "*": 200}),
}

# Each app area keeps its entries in tests/security/matrix_<area>.py (MATRIX, and objects(cast) for
# its URL arguments), so parallel work on documents, workflows … never edits one shared dict.
for _area in area_modules():
    _overlap = set(MATRIX) & set(_area.MATRIX)
    assert not _overlap, f"{_area.__name__}: entries defined twice: {sorted(_overlap)}"
    MATRIX.update(_area.MATRIX)


def _url_patterns() -> list[tuple[str, list[str]]]:
    found: list[tuple[str, list[str]]] = []

    def walk(patterns: Any, namespace: str | None) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                # Nested namespaces join (api:documents:list), so an API URL never collides with a page.
                inner = (
                    f"{namespace}:{p.namespace}" if namespace and p.namespace else (p.namespace or namespace)
                )
                walk(p.url_patterns, inner)
            else:
                name = f"{namespace}:{p.name}" if namespace else p.name
                found.append((name, list(p.pattern.converters)))

    walk(get_resolver().url_patterns, None)
    return found


def test_every_url_pattern_has_a_matrix_entry() -> None:
    names = [name for name, _ in _url_patterns()]
    assert None not in names, "every URL pattern needs a name"
    missing = sorted(set(names) - set(MATRIX))
    stale = sorted(set(MATRIX) - set(names))
    assert not missing, f"URL patterns without a permission-matrix entry: {missing}"
    assert not stale, f"matrix entries for URLs that no longer exist: {stale}"


def _client_for(who: str, cast: Any) -> Client:
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    if who == "anonymous":
        return client
    user = getattr(cast, who)
    client.force_login(user, backend="officeapp.accounts.backends.LockoutAwareBackend")
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="matrix", defaults={"confirmed": True})
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def _check(name: str, cast: Any) -> None:
    # given: the objects the URL's arguments point at
    objects = matrix_objects(cast)
    params = dict(_url_patterns())[name]
    url = reverse(name, kwargs={p: objects[p] for p in params})
    method, expected = MATRIX[name]

    # when: each member asks, with a fresh session of their own
    got: dict[str, int] = {}
    for who in USERS:
        response = getattr(_client_for(who, cast), method)(url)
        got[who] = response.status_code

    # then
    want = {who: expected.get(who, expected["*"]) for who in USERS}
    assert got == want


@pytest.mark.parametrize("name", sorted(set(MATRIX) - {"healthz"}))
def test_each_member_of_the_cast_gets_the_expected_status(name: str, cast: Any) -> None:
    _check(name, cast)


@pytest.mark.django_db(transaction=True)
def test_health_answers_everyone_alike(cast: Any) -> None:
    # /healthz probes in threads of their own, which see only committed rows: hence transaction=True.
    from officeapp.worker.tasks import beat

    beat("ticker")
    beat("queue")
    _check("healthz", cast)
