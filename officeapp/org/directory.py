"""The 通讯录: one address book across every agency of the province.

Search is by name, full pinyin, initials (首字母), mobile or office phone, and department name.
Every lookup is a prefix match on an indexed column (no leading wildcard), each capped at a fixed
number of candidates, so a search costs the same at 2,000 and at 650,000 users; the candidates are
then ranked in Python: exact name first, then the viewer's own agency, then agency and department
order. A query matching more people than the cap shows the best-ranked of the first candidates; the
page asks for a longer query then.

Which contact fields a viewer sees is the 安全管理员's DirectoryFieldPolicy. A phone search only
matches numbers the viewer may see, so the search box cannot be used to probe hidden numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from officeapp.org.models import Agency, Department, DirectoryFieldPolicy, DirectoryVisibility, User

# Until the 安全管理员 sets a field (accounts:security), it is visible within the person's own agency:
# the model's default, which is also what the policy page shows for an unset field.
DEFAULT_VISIBILITY: dict[str, str] = {
    "mobile": DirectoryVisibility.SAME_AGENCY,
    "office_phone": DirectoryVisibility.SAME_AGENCY,
    "email": DirectoryVisibility.SAME_AGENCY,
    "employee_no": DirectoryVisibility.SAME_AGENCY,
}
POLICY_FIELDS: tuple[str, ...] = tuple(DEFAULT_VISIBILITY)
# Candidates read per lookup; bounds the work of one search whatever the size of the province.
CANDIDATE_CAP = 100
MAX_QUERY_LENGTH = 40
_PHONE = re.compile(r"^[0-9+\-]{3,}$")
_LATIN = re.compile(r"^[a-z]+$")


@dataclass(frozen=True)
class DirectoryEntry:
    """One person as the viewer may see them: hidden fields are None, not empty strings."""

    id: int
    real_name: str
    position: str
    department_id: int | None
    department: str
    agency_id: int | None
    agency: str
    mobile: str | None
    office_phone: str | None
    email: str | None
    employee_no: str | None
    is_self: bool = False


@dataclass(frozen=True)
class PersonAction:
    """A button on a person's card that a higher app offers (chat's 发消息)."""

    label: str
    url: str
    method: str = "post"


def actions_for(viewer: Any, entry: DirectoryEntry) -> list[PersonAction]:
    from officeapp.registries import person_actions

    return [a for _, make in sorted(person_actions.items()) if (a := make(viewer, entry)) is not None]


def field_policies() -> dict[str, str]:
    """Visibility per field: the stored policy, else the default."""
    stored = dict(DirectoryFieldPolicy.objects.values_list("field", "visibility"))
    return {name: stored.get(name, default) for name, default in DEFAULT_VISIBILITY.items()}


def _viewer_scope(viewer: Any) -> tuple[int | None, int | None]:
    department = getattr(viewer, "department", None)
    return (department.agency_id if department else None), getattr(viewer, "department_id", None)


def may_see(
    visibility: str,
    *,
    viewer_agency: int | None,
    viewer_department: int | None,
    agency_id: int | None,
    department_id: int | None,
    is_self: bool,
) -> bool:
    if is_self or visibility == DirectoryVisibility.EVERYONE:
        return True
    if visibility == DirectoryVisibility.SAME_AGENCY:
        return viewer_agency is not None and viewer_agency == agency_id
    if visibility == DirectoryVisibility.SAME_DEPARTMENT:
        return viewer_department is not None and viewer_department == department_id
    return False


def _base(agency: Agency | None, department: Department | None) -> QuerySet[User]:
    qs = User.objects.filter(is_active=True, department__isnull=False)
    if department is not None:
        qs = qs.filter(department=department)
    elif agency is not None:
        qs = qs.filter(department__agency=agency)
    return qs


def _phone_scope(visibility: str, own_departments: list[int], viewer_department: int | None) -> Q | None:
    """Who a phone-number search may match: only people whose number the viewer may see."""
    if visibility == DirectoryVisibility.EVERYONE:
        return Q()
    if visibility == DirectoryVisibility.SAME_AGENCY and own_departments:
        return Q(department_id__in=own_departments)
    if visibility == DirectoryVisibility.SAME_DEPARTMENT and viewer_department is not None:
        return Q(department_id=viewer_department)
    return None


def _candidate_ids(
    viewer: Any,
    query: str,
    base: QuerySet[User],
    policies: dict[str, str],
    viewer_agency: int | None,
    viewer_department: int | None,
    cap: int,
) -> tuple[set[int], set[int]]:
    """Ids of people matching `query` (capped per lookup) and the subset whose name equals it."""
    lookups: list[Q] = []
    exact: set[int] = set()
    lowered = query.lower()
    # The viewer's own agency first, so colleagues are never crowded out by the cap. Its departments
    # are a short list; filtering on it avoids a join per lookup.
    own_departments: list[int] = []
    if viewer_agency is not None:
        own_departments = list(
            Department.objects.filter(agency_id=viewer_agency).order_by().values_list("pk", flat=True)[:5000]
        )
    if _PHONE.match(query):
        for name in ("mobile", "office_phone"):
            scope = _phone_scope(policies[name], own_departments, viewer_department)
            if scope is not None:
                lookups.append(Q(**{f"{name}__startswith": query}) & scope)
        # One's own number always finds oneself.
        lookups.append(Q(pk=getattr(viewer, "pk", None), mobile__startswith=query))
    elif _LATIN.match(lowered):
        lookups.append(Q(name_pinyin__startswith=lowered))
        lookups.append(Q(name_initials__startswith=lowered))
    else:
        exact = set(base.filter(real_name=query).values_list("pk", flat=True)[:cap])
        lookups.append(Q(real_name__startswith=query))
        department_ids = list(
            Department.objects.filter(name__startswith=query, is_active=True)
            .order_by()
            .values_list("pk", flat=True)[:cap]
        )
        if department_ids:
            lookups.append(Q(department_id__in=department_ids))
    found: set[int] = set(exact)
    for condition in lookups:
        if own_departments:
            found.update(
                base.filter(condition, department_id__in=own_departments).values_list("pk", flat=True)[:cap]
            )
        found.update(base.filter(condition).values_list("pk", flat=True)[:cap])
    return found, exact


def entries_for(
    viewer: Any, users: list[User], policies: dict[str, str] | None = None
) -> list[DirectoryEntry]:
    """DirectoryEntry for users already loaded with department__agency and position."""
    policies = policies or field_policies()
    viewer_agency, viewer_department = _viewer_scope(viewer)
    result = []
    for u in users:
        department = u.department
        agency_id = department.agency_id if department else None
        is_self = u.pk == getattr(viewer, "pk", None)
        shown = {
            name: (getattr(u, name) or "")
            if may_see(
                policies[name],
                viewer_agency=viewer_agency,
                viewer_department=viewer_department,
                agency_id=agency_id,
                department_id=u.department_id,
                is_self=is_self,
            )
            else None
            for name in POLICY_FIELDS
        }
        result.append(
            DirectoryEntry(
                id=u.pk,
                real_name=u.real_name,
                position=u.position.name if u.position else "",
                department_id=u.department_id,
                department=department.name if department else "",
                agency_id=agency_id,
                agency=(department.agency.short_name or department.agency.name) if department else "",
                is_self=is_self,
                **shown,
            )
        )
    return result


def search_people(
    viewer: Any,
    query: str,
    *,
    agency: Agency | None = None,
    department: Department | None = None,
    limit: int = 20,
    offset: int = 0,
) -> list[DirectoryEntry]:
    """People matching `query` by name, pinyin, initials, phone or department name, best first."""
    # NUL is no character of a name, and PostgreSQL refuses it in a query (every picker calls this).
    query = (query or "").replace("\x00", "").strip()[:MAX_QUERY_LENGTH]
    if not query or limit <= 0:
        return []
    offset = max(offset, 0)
    policies = field_policies()
    viewer_agency, viewer_department = _viewer_scope(viewer)
    base = _base(agency, department)
    cap = max(CANDIDATE_CAP, offset + limit)
    ids, exact = _candidate_ids(viewer, query, base, policies, viewer_agency, viewer_department, cap)
    if not ids:
        return []
    # Rank on a few columns of every candidate, then load the one page in full.
    ranked = sorted(
        User.objects.filter(pk__in=ids).values_list(
            "pk",
            "department__agency_id",
            "department__agency__path",
            "department__sort_order",
            "department__path",
            "sort_order",
            "name_pinyin",
        ),
        key=lambda r: (r[0] not in exact, r[1] != viewer_agency, r[2], r[3], r[4], r[5], r[6], r[0]),
    )
    page = [r[0] for r in ranked[offset : offset + limit]]
    loaded = User.objects.select_related("department__agency", "position").in_bulk(page)
    users = [loaded[pk] for pk in page if pk in loaded]
    return entries_for(viewer, users, policies)


def get_person(viewer: Any, user_id: Any) -> DirectoryEntry | None:
    """The person card: any active user of the province, with the fields the viewer may see."""
    try:
        user = User.objects.select_related("department__agency", "position").get(
            pk=int(user_id), is_active=True, department__isnull=False
        )
    except (User.DoesNotExist, ValueError, TypeError):
        return None
    return entries_for(viewer, [user])[0]


def department_members(
    viewer: Any, department: Department, *, limit: int = 50, offset: int = 0
) -> list[DirectoryEntry]:
    """Members of one department in 排序 order (the org-tree browser)."""
    users = list(
        User.objects.filter(department=department, is_active=True)
        .select_related("department__agency", "position")
        .order_by("sort_order", "name_pinyin", "pk")[offset : offset + limit]
    )
    return entries_for(viewer, users)


# --- the REST API (issue 10): the 通讯录 an app reads with its own token ------------------------------


@dataclass(frozen=True)
class AgencyDesk:
    """The viewer an app's own token is in one of its data agencies: someone of that agency with no
    department and no person of their own — so the policy's 本机关可见 fields of that agency show,
    本部门可见 and 不公开 ones never."""

    agency_id: int
    pk: None = None
    department_id: None = None

    @property
    def department(self) -> AgencyDesk:  # _viewer_scope reads viewer.department.agency_id
        return self


def directory_for_app(app: Any) -> tuple[list[int], QuerySet[User]]:
    """The agencies whose 通讯录 an app reads with its own token (its data agencies, else its owner)
    and the active people of those agencies."""
    agencies = app.reading_agency_ids()
    return agencies, User.objects.filter(is_active=True, department__agency_id__in=agencies)


def entries_for_app(users: list[User], policies: dict[str, str] | None = None) -> list[DirectoryEntry]:
    """DirectoryEntry for people of the app's agencies, each seen from a desk in their own agency."""
    policies = policies or field_policies()
    return [entries_for(AgencyDesk(u.department.agency_id), [u], policies)[0] for u in users]
