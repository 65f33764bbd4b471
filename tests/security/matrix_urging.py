"""Permission-matrix entries for the 催办 page (workflows/views/urging.py).

The page is for the office of the person's own agency — 文秘, 办公室主任, 收发员 — and its 督查员
(省财政厅's 收发员 other_clerk sees her own agency's, empty, list); everyone else gets 403 (a page
they may not use, no object to hide). The 催办 button posts on `task_id`, the shared document's
拟稿 task (matrix_flow): whoever cannot see the document gets the 404 of a missing task; whoever
sees it but is not the office gets 403.

"""

from __future__ import annotations

from typing import Any

# 省府办公厅's 文秘 and 办公室主任 see the draft and urge it; its 收发员 and 督查员 may urge but do not
# see another unit's draft (404, and the page does not list it), nor does the 分管 leader before 签发.
_URGE = {"office_secretary": 302, "office_director": 302, "drafter": 403}

MATRIX: dict[str, tuple[str, dict[str, int]]] = {
    "workflows:urging": (
        "get",
        {
            "anonymous": 302,
            "*": 403,
            "office_secretary": 200,
            "office_director": 200,
            "clerk": 200,
            "supervisor": 200,
            "other_clerk": 200,
        },
    ),
    "workflows:urge_task": ("post", {"anonymous": 302, "*": 404, **_URGE}),
}


def objects(cast: Any, existing: dict[str, Any]) -> dict[str, Any]:
    # `task_id` comes from matrix_flow (the shared document's open 拟稿 task).
    return {}
