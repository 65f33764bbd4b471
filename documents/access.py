"""Who may see or do what with documents. The one place that decides; views look up only here.

A person may open a document (and its versions, attachments and renderings) when they:
- took part in its processing (a `Participant` row: drafter, task owner or candidate, delegate);
- hold an office role (文秘, 办公室主任, 印章管理员, 档案员) in its issuing agency or a co-issuer;
- are a 收发员 of an agency it was distributed to (not withdrawn);
- are a 收发员 of the agency that received it (a 收文 is that agency's own record).
Everyone else gets the same 404 as for a missing document.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from documents.models import (
    BODY_EDITABLE_STATES,
    CoIssuer,
    DocumentCategory,
    DocumentState,
    ExchangeRecord,
    ExchangeState,
    OfficialDocument,
    Participant,
)
from officeapp.access import get_or_404, grants_of, has_role
from officeapp.org.models import Role

SENT_STATES = (DocumentState.DISTRIBUTE, DocumentState.ARCHIVE, DocumentState.ARCHIVED)

# Roles that see every document of their agency (the office runs the 发文 process).
OFFICE_ROLES = frozenset({Role.OFFICE_SECRETARY, Role.OFFICE_DIRECTOR, Role.SEAL_KEEPER, Role.ARCHIVIST})


def _agencies_with(user: Any, roles: frozenset[str] | set[str]) -> list[int]:
    ids: list[int] = []
    for grant in grants_of(user):
        if grant.role not in roles:
            continue
        if grant.agency_id is not None:
            ids.append(grant.agency_id)
        elif grant.department_id is not None:
            ids.append(grant.department.agency_id)
    return ids


def office_agencies(user: Any) -> list[int]:
    """Agencies whose documents the user sees through an office role."""
    return _agencies_with(user, OFFICE_ROLES)


def visible_documents(user: Any) -> QuerySet[OfficialDocument]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return OfficialDocument.objects.none()
    condition = Q(pk__in=Participant.objects.filter(user=user).values("document_id"))
    offices = office_agencies(user)
    if offices:
        condition |= Q(agency_id__in=offices)
        condition |= Q(pk__in=CoIssuer.objects.filter(agency_id__in=offices).values("document_id"))
    clerk_of = _agencies_with(user, {Role.CLERK})
    if clerk_of:
        # The issuing agency's 收发员 distributes and files: they see its documents from 分发 on.
        condition |= Q(agency_id__in=clerk_of, state__in=SENT_STATES)
        # A 收文 is kept by the receiving agency's 收发员 from 签收 to 归档.
        condition |= Q(agency_id__in=clerk_of, category=DocumentCategory.INCOMING)
        condition |= Q(
            pk__in=ExchangeRecord.objects.filter(recipient_id__in=clerk_of)
            .exclude(state=ExchangeState.WITHDRAWN)
            .values("document_id")
        )
    return OfficialDocument.objects.filter(condition)


def get_document_for(user: Any, document_id: Any) -> OfficialDocument:
    """The document if the user may see it; the same 404 for missing and forbidden."""
    return get_or_404(
        visible_documents(user).select_related("agency", "department", "drafter"), pk=document_id
    )


def can_view(user: Any, document: OfficialDocument) -> bool:
    return visible_documents(user).filter(pk=document.pk).exists()


def is_office_of(user: Any, document: OfficialDocument, *roles: str) -> bool:
    """Holds one of `roles` (default: any office role) in the issuing agency or a co-issuer."""
    wanted = set(roles) if roles else set(OFFICE_ROLES)
    agencies = {document.agency_id, *document.co_issuers.values_list("agency_id", flat=True)}
    return any(a in agencies for a in _agencies_with(user, wanted))


def can_manage_flow(user: Any, document: OfficialDocument) -> bool:
    """重定位, 挂起, 终止: the issuing agency's 办公室主任 or 文秘."""
    return has_role(user, Role.OFFICE_DIRECTOR, agency=document.agency_id) or has_role(
        user, Role.OFFICE_SECRETARY, agency=document.agency_id
    )


def can_keep_letterheads(user: Any, agency_id: int) -> bool:
    """版头模板 and 印章 are kept by the agency's office."""
    return has_role(user, Role.OFFICE_DIRECTOR, agency=agency_id) or has_role(
        user, Role.OFFICE_SECRETARY, agency=agency_id
    )


def can_seal(user: Any, agency_id: int) -> bool:
    """Only the agency's 印章管理员 may seal (issue 4)."""
    return has_role(user, Role.SEAL_KEEPER, agency=agency_id)


def can_archive(user: Any, document: OfficialDocument) -> bool:
    return has_role(user, Role.ARCHIVIST, agency=document.agency_id) or has_role(
        user, Role.OFFICE_SECRETARY, agency=document.agency_id
    )


def body_is_editable(document: OfficialDocument) -> bool:
    """The state rule only; whether *this person* may edit now is the flow's question (their task)."""
    return document.state in BODY_EDITABLE_STATES and document.state != DocumentState.ARCHIVED


# --- Search (issue 9): the same rule as `visible_documents`, as principals ---------------------------
# The search index stores, with each document, the principals that may see it; a query carries the
# user's. The two functions below encode `visible_documents` clause by clause, so that a principal
# shared by both sides means exactly "visible_documents(user) contains the document"
# (tests/search/test_principals_documents.py proves it over a varied set). Change them together
# with `visible_documents`.


def document_principals(document: OfficialDocument) -> frozenset[str]:
    """Who may see `document`, as search principals. Reads `participants`, `co_issuers` and
    `exchange_records` through their related managers, so a caller indexing many documents
    prefetches them (search.sources.documents does)."""
    principals = {f"u:{p.user_id}" for p in document.participants.all()}
    # Office roles of the issuing agency or a co-issuer.
    principals.add(f"doc-office:{document.agency_id}")
    principals.update(f"doc-office:{c.agency_id}" for c in document.co_issuers.all())
    # The issuing agency's 收发员 from 分发 on; the receiving agency's for its own 收文.
    if document.state in SENT_STATES or document.category == DocumentCategory.INCOMING:
        principals.add(f"doc-clerk:{document.agency_id}")
    # Recipients' 收发员 while the exchange record is not withdrawn.
    principals.update(
        f"doc-clerk:{r.recipient_id}"
        for r in document.exchange_records.all()
        if r.state != ExchangeState.WITHDRAWN
    )
    return frozenset(principals)


def search_principals_of(user: Any) -> dict[str, int | None]:
    """The user's side of `document_principals` (no floors: documents have no acl_seq)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return {}
    principals: dict[str, int | None] = {f"u:{user.pk}": None}
    for agency_id in office_agencies(user):
        principals[f"doc-office:{agency_id}"] = None
    for agency_id in _agencies_with(user, {Role.CLERK}):
        principals[f"doc-clerk:{agency_id}"] = None
    return principals


# --- The REST API (issue 10): what an app sees with its own token -------------------------------------


def documents_for_app(app: Any) -> QuerySet[OfficialDocument]:
    """What a 收发员 of the app's agencies would see (the clerk branches of `visible_documents`):
    documents those agencies issued, from 分发 on; their 收文; documents distributed to them and not
    withdrawn. Never a draft, nothing through a person's part in a flow or an office role. Change it
    together with the clerk branches of `visible_documents` (tests/integration/test_api_documents.py
    compares the two)."""
    if not app.is_active:
        return OfficialDocument.objects.none()
    agencies = app.reading_agency_ids()
    condition = Q(agency_id__in=agencies, state__in=SENT_STATES)
    condition |= Q(agency_id__in=agencies, category=DocumentCategory.INCOMING)
    condition |= Q(
        pk__in=ExchangeRecord.objects.filter(recipient_id__in=agencies)
        .exclude(state=ExchangeState.WITHDRAWN)
        .values("document_id")
    )
    return OfficialDocument.objects.filter(condition)
