"""Permission-matrix entries for the 督办看板, its lists, its Excel export and the 月度督办通报
(workflows/views/supervision_dashboard.py).

The dashboard, the list behind each bar and the export are for department heads, the 督查员 and the
office (办公室主任, 文秘) and leaders — each sees only the items workflows.access.visible_items gives
them; everyone else gets 403 (a page they may not use, no object to hide). The 通报 is for the
督查员 and the office of their own agency only.
"""

from __future__ import annotations

from typing import Any

_DASHBOARD = {
    "anonymous": 302,
    "*": 403,
    "dept_head": 200,
    "office_secretary": 200,
    "office_director": 200,
    "leader": 200,
    "supervisor": 200,
}
_BULLETIN = {"anonymous": 302, "*": 403, "office_secretary": 200, "office_director": 200, "supervisor": 200}

MATRIX: dict[str, tuple[str, dict[str, int]]] = {
    "workflows:supervision_dashboard": ("get", _DASHBOARD),
    "workflows:supervision_dashboard_list": ("get", _DASHBOARD),
    "workflows:supervision_export": ("get", _DASHBOARD),
    "workflows:supervision_bulletin": ("get", _BULLETIN),
}


def objects(cast: Any, existing: dict[str, Any]) -> dict[str, Any]:
    return {}  # no URL arguments
