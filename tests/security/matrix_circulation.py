"""Permission-matrix entries for the 传阅 pages (workflows/views/circulation.py).

`document_id` is the shared draft (matrix_setup): only 省府办公厅's office may start a 传阅 of it (文秘,
办公室主任: 200, the form); the drafter sees the document but is not the office (403); everyone else
cannot see it (404, the same as a missing one — the 收发员 sees documents only from 分发 on).
`reading_id` is the leader's 待阅 item of a draft of its own (circulating the shared draft would
let the leader see it and change other areas' entries): only the leader opens it (200); anyone
else gets the 404 of a missing item.

"""

from __future__ import annotations

from typing import Any

MATRIX: dict[str, tuple[str, dict[str, int]]] = {
    "workflows:circulate": (
        "get",
        {
            "anonymous": 302,
            "*": 404,
            "drafter": 403,
            "office_secretary": 200,
            "office_director": 200,
        },
    ),
    "workflows:reading": ("get", {"anonymous": 302, "*": 404, "leader": 200}),
}


def objects(cast: Any, existing: dict[str, Any]) -> dict[str, Any]:
    from documents.services import create_draft
    from workflows.circulation import circulate

    document = create_draft(
        actor=cast.drafter,
        department=cast.general_dept,
        title="关于开展安全生产大检查的通知",
        body=[{"kind": "p", "text": "现将有关事项通知如下。"}],
        main_recipients=[cast.finance],
    )
    circulation = circulate(document, actor=cast.office_secretary, readers=[cast.leader], in_order=False)
    return {"reading_id": circulation.readers.get().pk}
