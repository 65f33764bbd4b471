"""Permission-matrix entries for 待签收, distribution status and the archive (documents/views/exchange.py).

`document_id` is the shared draft (matrix_setup): the drafter sees it but is not the office (403);
the 文秘 and 办公室主任 see it (an office role). It is not distributed (an empty status list) nor
archived (its package redirects to the document page with a message). `exchange_id` is a
record of a document of our own, distributed to 省财政厅 (whose 收发员 other_clerk sees it).
"""

from __future__ import annotations

from typing import Any

MATRIX: dict[str, tuple[str, dict[str, int]]] = {
    # Only 收发员 have a 待签收 list.
    "documents:pending": ("get", {"anonymous": 302, "*": 403, "clerk": 200, "other_clerk": 200}),
    "documents:distribution": (
        "get",
        {"anonymous": 302, "*": 404, "drafter": 403, "office_secretary": 200, "office_director": 200},
    ),
    "documents:distribution_export": (
        "get",
        {"anonymous": 302, "*": 404, "drafter": 403, "office_secretary": 200, "office_director": 200},
    ),
    # An empty reason: the sender's office and 收发员 see the page again with "请填写撤回原因。"; the
    # recipient's clerk and the drafter see the document but may not withdraw it.
    "documents:exchange_withdraw": (
        "post",
        {
            "anonymous": 302,
            "*": 404,
            "drafter": 403,
            "other_clerk": 403,
            "clerk": 200,
            "office_secretary": 200,
            "office_director": 200,
        },
    ),
    # 签收, 退文 and 转发 are the recipient's (省财政厅's 收发员 other_clerk): the record is pending,
    # so other_clerk signs (302 to the 待签收 list), is shown the 退文 form again for an empty
    # reason, and gets the 转发 form. The sender's side and the drafter see the document: 403.
    "documents:exchange_receive": (
        "post",
        {
            "anonymous": 302,
            "*": 404,
            "drafter": 403,
            "clerk": 403,
            "office_secretary": 403,
            "office_director": 403,
            "other_clerk": 302,
        },
    ),
    "documents:exchange_return": (
        "post",
        {
            "anonymous": 302,
            "*": 404,
            "drafter": 403,
            "clerk": 403,
            "office_secretary": 403,
            "office_director": 403,
            "other_clerk": 200,
        },
    ),
    "documents:exchange_forward": (
        "get",
        {
            "anonymous": 302,
            "*": 404,
            "drafter": 403,
            "clerk": 403,
            "office_secretary": 403,
            "office_director": 403,
            "other_clerk": 200,
        },
    ),
    # 补发 is the issuing agency's office's (the shared draft: the form opens; sending is refused).
    "documents:exchange_resend": (
        "get",
        {"anonymous": 302, "*": 404, "drafter": 403, "office_secretary": 200, "office_director": 200},
    ),
    # 催办 is the sender's: an empty note re-renders the tracking page with "请填写催办说明。".
    "documents:exchange_urge": (
        "post",
        {
            "anonymous": 302,
            "*": 404,
            "drafter": 403,
            "other_clerk": 403,
            "clerk": 200,
            "office_secretary": 200,
            "office_director": 200,
        },
    ),
    # The record was not returned: there is no 退文通知单, for anyone.
    "documents:exchange_return_notice": ("get", {"anonymous": 302, "*": 404}),
    "documents:exchange_return_notice_docx": ("get", {"anonymous": 302, "*": 404}),
    "documents:archive": (
        "get",
        {"anonymous": 302, "*": 403, "office_secretary": 200, "office_director": 200},
    ),
    "documents:archive_year": (
        "get",
        {"anonymous": 302, "*": 403, "office_secretary": 200, "office_director": 200},
    ),
    "documents:archive_package": (
        "get",
        {"anonymous": 302, "*": 404, "drafter": 403, "office_secretary": 302, "office_director": 302},
    ),
}


def objects(cast: Any, existing: dict[str, Any]) -> dict[str, Any]:
    from documents.exchange import distribute
    from tests.documents.exchange_factories import make_sealed

    document = make_sealed(cast, number="粤府办〔2026〕901号", cc_recipients=[])
    (record,) = distribute(document, actor=cast.office_secretary)
    return {"exchange_id": record.pk}
