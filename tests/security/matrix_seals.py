"""Permission-matrix entries for 版头模板, 电子印章 and signature verification (documents/views/seals.py).

The 省府办公厅's office (文秘, 办公室主任) keeps its letterheads and seals; everyone else signed in is
refused with 403 (agencies are public, so the page's existence is no secret). The verification
pages follow the shared draft document: its viewers get 200, everyone else the same 404 as for a
missing document. Anyone signed in may upload a file to verify.
"""

from __future__ import annotations

from typing import Any

OFFICE = {"office_secretary": 200, "office_director": 200}
SEES_DOCUMENT = {"drafter": 200, "office_secretary": 200, "office_director": 200}

MATRIX: dict[str, tuple[str, dict[str, int]]] = {
    # The office goes to its own agency's page; anyone else is refused.
    "documents:office_home": (
        "get",
        {"anonymous": 302, "*": 403, "office_secretary": 302, "office_director": 302},
    ),
    "documents:letterheads": ("get", {"anonymous": 302, "*": 403, **OFFICE}),
    "documents:letterhead_create": ("get", {"anonymous": 302, "*": 403, **OFFICE}),
    "documents:letterhead_edit": ("get", {"anonymous": 302, "*": 403, **OFFICE}),
    # Setting the default redirects back to the list.
    "documents:letterhead_default": (
        "post",
        {"anonymous": 302, "*": 403, "office_secretary": 302, "office_director": 302},
    ),
    "documents:seals": ("get", {"anonymous": 302, "*": 403, **OFFICE}),
    "documents:seal_create": ("get", {"anonymous": 302, "*": 403, **OFFICE}),
    "documents:verify": ("get", {"anonymous": 302, "*": 404, **SEES_DOCUMENT}),
    "documents:verify_api": ("get", {"anonymous": 302, "*": 404, **SEES_DOCUMENT}),
    "documents:verify_upload": ("get", {"anonymous": 302, "*": 200}),
}


def objects(cast: Any, existing: dict[str, Any]) -> dict[str, Any]:
    from documents.letterheads import create_letterhead

    letterhead = create_letterhead(
        cast.gov_office,
        actor=None,
        name="办公厅文件",
        mark_text="广东省人民政府办公厅文件",
        number_prefix="粤府办",
    )
    return {"letterhead_id": letterhead.pk}
