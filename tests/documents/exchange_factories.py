"""Documents ready for 分发 and 归档, built by setting fields directly: the tests of exchange and
archiving do not depend on the 发文 flow's earlier steps."""

from __future__ import annotations

import io
from typing import Any

from django.utils import timezone

from tests.documents.factories import make_document

SEALED_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n% sealed test file\n%%EOF\n"


def make_sealed(cast: Any, *, number: str = "粤府办〔2026〕1号", **fields: Any) -> Any:
    """A document at the 分发 step: numbered, its current version typeset (docx) and sealed (PDF)."""
    from documents.models import DocumentState, Rendering, RenderKind, RenderStatus
    from officeapp.blobs.services import put

    document = make_document(cast, **fields)
    document.doc_number = number
    document.state = DocumentState.DISTRIBUTE
    document.issued_on = timezone.localdate()
    document.signer_names = "王德明"
    document.save()
    for kind, content in (
        (RenderKind.DOCX, b"PK\x03\x04 docx of " + number.encode()),
        (RenderKind.SEALED_PDF, SEALED_PDF + number.encode()),
    ):
        Rendering.objects.create(
            document=document,
            version=document.current_version,
            kind=kind,
            status=RenderStatus.READY,
            blob=put(io.BytesIO(content), actor=None),
            finished_at=timezone.now(),
        )
    return document


def grant(user: Any, role: str, agency: Any) -> Any:
    """Grant a role the cast lacks (印章管理员, 档案员 …) and forget the user's cached grants."""
    from officeapp.org.services import grant_role

    grant_role(actor=None, user=user, role=role, agency=agency)
    user.__dict__.pop("_officeapp_grants", None)
    return user


def receiving_cast(cast: Any) -> Any:
    """The receiving side of 收文 (tests/workflows/incoming_cast.py) on this cast: 省财政厅's two
    收发员, 文秘 and 办公室主任, and a city (广州) with a county (越秀) below it."""
    from tests.workflows.conftest import build_flow_cast
    from tests.workflows.incoming_cast import build_receiving_cast

    return build_receiving_cast(build_flow_cast(cast))


def many_agencies(count: int, *, prefix: str = "T") -> list[Any]:
    """`count` county-level agencies under the province, made in one statement (no 收发员: the
    tests that use them count queries, not notifications)."""
    from officeapp.org.models import Agency, AgencyLevel

    province = Agency.objects.get(parent__isnull=True)
    return Agency.objects.bulk_create(
        [
            Agency(
                name=f"测试县{i:04d}人民政府",
                level=AgencyLevel.COUNTY,
                code=f"{prefix}{i:04d}",
                parent=province,
            )
            for i in range(count)
        ]
    )


def distributed_to(cast: Any, agencies: list[Any], *, number: str = "粤府办〔2026〕50号") -> Any:
    """A sealed document of 省府办公厅 distributed to `agencies` (主送) by its 文秘."""
    from documents.exchange import distribute

    document = make_sealed(cast, number=number, cc_recipients=[])
    document.main_recipients.set(agencies)
    distribute(document, actor=cast.office_secretary)
    return document
