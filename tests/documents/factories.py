"""Documents built on the fixed cast, for tests of every documents/ and workflows/ module."""

from __future__ import annotations

from typing import Any

SAMPLE_BODY: list[dict[str, str]] = [
    {
        "kind": "p",
        "text": "为切实做好今年汛期防汛防台风工作，确保人民群众生命财产安全，现就有关事项通知如下。",
    },
    {"kind": "h1", "text": "一、提高思想认识"},
    {"kind": "p", "text": "各地各部门要充分认识防汛工作的重要性和紧迫性，压实各级责任。"},
    {"kind": "h2", "text": "（一）落实防汛责任制"},
    {"kind": "p", "text": "严格落实以行政首长负责制为核心的防汛责任制。"},
    {"kind": "h3", "text": "1.加强值班值守"},
    {"kind": "p", "text": "汛期实行24小时值班和领导带班制度。"},
    {"kind": "h4", "text": "（1）及时报送信息"},
    {"kind": "p", "text": "发生险情灾情要第一时间报告。"},
]


def make_document(cast: Any, *, title: str = "关于做好2026年防汛防台风工作的通知", **fields: Any) -> Any:
    """A draft by the cast's drafter in 综合处 of 省政府办公厅, 主送 省财政厅, 抄送 省教育厅."""
    from documents.services import create_draft

    fields.setdefault("main_recipients", [cast.finance])
    fields.setdefault("cc_recipients", [cast.education])
    fields.setdefault("body", SAMPLE_BODY)
    return create_draft(actor=cast.drafter, department=cast.general_dept, title=title, **fields)
