"""The people of chat tests, on the fixed cast (tests/conftest.py).

A working group across three agencies: `owner` (林小梅, 省府办公厅 综合处, the cast's drafter),
`admin` (陈志强, her 处长), `finance_member` (李国华, 省财政厅 办公室, the cast's other_clerk) and
`education_member` (孙敏, 省教育厅 高等教育处, made here). `outsider` (赵文静, 省教育厅, the same
department as education_member) is never a member of anything the tests create; `audit_admin`
never chats at all (三员分立); `security_admin` keeps the retention setting.

    def test_…(chat: ChatCast) -> None:
        chat.owner, chat.finance_member, chat.members()
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.conftest import CAST_PASSWORD


@dataclass
class ChatCast:
    cast: Any
    education_member: Any

    @property
    def owner(self) -> Any:
        return self.cast.drafter

    @property
    def admin(self) -> Any:
        return self.cast.dept_head

    @property
    def finance_member(self) -> Any:
        return self.cast.other_clerk

    @property
    def outsider(self) -> Any:
        return self.cast.outsider

    @property
    def audit_admin(self) -> Any:
        return self.cast.audit_admin

    @property
    def security_admin(self) -> Any:
        return self.cast.security_admin

    def members(self) -> list[Any]:
        """The group's members besides its owner, in a fixed order."""
        return [self.admin, self.finance_member, self.education_member]


def build_chat_cast(cast: Any) -> ChatCast:
    from officeapp.org import services

    education_member = services.create_user(
        actor=None,
        username="education_member",
        real_name="孙敏",
        department=cast.higher_ed,
        password=CAST_PASSWORD,
        employee_no="JYT002",
        mobile="13700000002",
        email="education_member@gd.example",
    )
    return ChatCast(cast=cast, education_member=education_member)
