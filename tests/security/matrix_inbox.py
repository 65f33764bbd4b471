"""Permission-matrix entries for the inbox (workflows/views/inbox.py) and 效能统计
(workflows/views/efficiency.py).

The inbox shows each signed-in person their own rows, so everyone gets 200. 效能统计 is for the
office of the person's own agency: 省府办公厅's 办公室主任 and 文秘; everyone else gets 403 (there is
no object to hide, only a page they may not use).
"""

from __future__ import annotations

from typing import Any

MATRIX: dict[str, tuple[str, dict[str, int]]] = {
    "workflows:inbox": ("get", {"anonymous": 302, "*": 200}),
    "workflows:efficiency": (
        "get",
        {"anonymous": 302, "*": 403, "office_director": 200, "office_secretary": 200},
    ),
}


def objects(cast: Any, existing: dict[str, Any]) -> dict[str, Any]:
    # Neither URL takes an argument.
    return {}
