"""印章管理员 and a stand-in renderer for the sealing tests (nobody in the fixed cast keeps a seal)."""

from __future__ import annotations

import uuid
import zlib
from typing import Any

from documents.models import DocumentState, OfficialDocument


def make_seal_keeper(cast: Any, agency: Any, username: str = "seal_keeper") -> Any:
    """A 印章管理员 of `agency`, in its first department (秘书处 for the 省府办公厅)."""
    from officeapp.org.models import Role
    from officeapp.org.services import create_user, grant_role

    department = cast.secretariat if agency.pk == cast.gov_office.pk else agency.departments.first()
    user = create_user(
        actor=None,
        username=username,
        real_name="印章管理员" + username[-2:],
        department=department,
        password="Cast-Passw0rd-2026",
        employee_no=f"SEAL-{username}",
        mobile=f"139{zlib.crc32(username.encode()) % 10**8:08d}",
        email=f"{username}@gd.example",
    )
    grant_role(actor=None, user=user, role=Role.SEAL_KEEPER, agency=agency)
    return type(user).objects.get(pk=user.pk)


def at_seal_step(document: OfficialDocument) -> OfficialDocument:
    """The flow has reached 用印 (the flow's own tests drive it there step by step)."""
    from documents.services import set_state

    set_state(document, DocumentState.SEAL)
    return document


class FakeRenderer:
    """Stands in for documents.rendering.render_pdf: a small PDF, different each call, and a note of
    the seals it was asked to place."""

    def __init__(self) -> None:
        self.calls: list[list[tuple[str, bytes]]] = []

    def __call__(self, document: OfficialDocument, seals: list[tuple[str, bytes]]) -> bytes:
        self.calls.append(seals)
        return b"%PDF-1.7\n% sealed " + str(uuid.uuid4()).encode() + b"\n%%EOF\n"
