"""The 通讯录 API (/api/v1/directory/): a user token sees the province as the 通讯录 page shows it
to that user (fields per the 安全管理员's policy); an app's own token its agencies' people, each as
someone of their own agency sees them; search as the page's; updated_since from the org changes."""

from __future__ import annotations

from typing import Any

import pytest

from officeapp.org import services
from officeapp.org.models import DirectoryFieldPolicy, DirectoryVisibility

pytestmark = pytest.mark.django_db

SCOPE = "directory.read"
PEOPLE = "/api/v1/directory/people/"


def _rows(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_a_user_sees_mobiles_of_their_own_agency_only_under_the_default_policy(
    cast: Any, make_app: Any, token_for: Any, api: Any
) -> None:
    app = make_app(cast.gov_office, scopes=[SCOPE])
    token = token_for(app, user=cast.drafter, scopes=SCOPE)

    colleague = api("GET", f"{PEOPLE}{cast.dept_head.pk}/", token=token).json()
    stranger = api("GET", f"{PEOPLE}{cast.outsider.pk}/", token=token).json()

    assert colleague["mobile"] == cast.dept_head.mobile != ""
    assert stranger["name"] == cast.outsider.real_name
    assert stranger["mobile"] is None and stranger["email"] is None


def test_an_apps_own_token_reads_only_its_agencies_with_the_own_agency_policy(
    cast: Any, make_app: Any, token_for: Any, api: Any
) -> None:
    DirectoryFieldPolicy.objects.create(field="email", visibility=DirectoryVisibility.SAME_DEPARTMENT)
    app = make_app(cast.gov_office, scopes=[SCOPE])
    token = token_for(app, scopes=SCOPE)

    rows = _rows(api("GET", f"{PEOPLE}?page_size=200", token=token))
    agencies = _rows(api("GET", "/api/v1/directory/agencies/", token=token))

    assert {r["agency_id"] for r in rows} == {cast.gov_office.pk}
    drafter = next(r for r in rows if r["id"] == cast.drafter.pk)
    assert drafter["mobile"] == cast.drafter.mobile  # 本机关可见
    assert drafter["email"] is None  # 本部门可见: never to an app
    assert [a["id"] for a in agencies] == [cast.gov_office.pk]
    assert api("GET", f"{PEOPLE}{cast.outsider.pk}/", token=token).status_code == 404
    other = make_app(cast.education, name="教育系统", scopes=[SCOPE])
    assert api("GET", f"{PEOPLE}{cast.drafter.pk}/", token=token_for(other, scopes=SCOPE)).status_code == 404


def test_search_finds_by_pinyin_as_the_page_does(cast: Any, make_app: Any, token_for: Any, api: Any) -> None:
    app = make_app(cast.gov_office, scopes=[SCOPE])
    initials = cast.drafter.name_initials

    as_user = _rows(
        api("GET", f"{PEOPLE}?q={initials}", token=token_for(app, user=cast.outsider, scopes=SCOPE))
    )
    as_app = _rows(api("GET", f"{PEOPLE}?q={initials}", token=token_for(app, scopes=SCOPE)))

    assert cast.drafter.pk in [r["id"] for r in as_user]
    assert cast.drafter.pk in [r["id"] for r in as_app]


def test_departments_filter_by_agency_and_updated_since_lists_the_changed(
    cast: Any, make_app: Any, token_for: Any, api: Any
) -> None:
    from django.utils import timezone

    app = make_app(cast.gov_office, scopes=[SCOPE])
    token = token_for(app, user=cast.drafter, scopes=SCOPE)
    departments = _rows(api("GET", f"/api/v1/directory/departments/?agency={cast.finance.pk}", token=token))
    since = timezone.now()
    services.update_user(
        cast.dept_head,
        actor=None,
        real_name=cast.dept_head.real_name,
        mobile=cast.dept_head.mobile,
        office_phone="020-1234",
    )
    changed = _rows(
        api("GET", f"{PEOPLE}?updated_since={since.isoformat().replace('+', '%2B')}", token=token)
    )

    assert {d["agency"] for d in departments} == {cast.finance.pk}
    assert [r["id"] for r in changed] == [cast.dept_head.pk]
    too_old = api("GET", f"{PEOPLE}?updated_since=2020-01-01", token=token)
    assert too_old.status_code == 400 and "updated_since" in too_old.json()["error"]["fields"]


@pytest.mark.parametrize("path", ["agencies/", "departments/", "people/", "people/{id}/"])
def test_every_endpoint_wants_a_token_and_the_directory_scope_and_refuses_the_audit_admin(
    cast: Any, make_app: Any, token_for: Any, api: Any, path: str
) -> None:
    app = make_app(cast.gov_office, scopes=[SCOPE, "meetings.read"])
    url = "/api/v1/directory/" + path.format(id=cast.drafter.pk)

    assert api("GET", url).status_code == 401
    assert api("GET", url, token=token_for(app, scopes="meetings.read")).status_code == 403
    assert api("GET", url, token=token_for(app, user=cast.audit_admin, scopes=SCOPE)).status_code == 403
    assert api("GET", url, token=token_for(app, user=cast.drafter, scopes=SCOPE)).status_code == 200
