"""manage.py bootstrap_admins: create the first 系统管理员, 安全管理员 and 审计管理员 (三员)."""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from officeapp.accounts.services import BOOTSTRAP_NAMES, AccountsRefused, bootstrap_admin
from officeapp.org.models import Role, RoleGrant

# --password-from-env reads these; nothing secret ever appears on a command line or in shell history.
PASSWORD_ENV: dict[str, str] = {
    Role.SYSTEM_ADMIN: "OFFICEAPP_SYSTEM_ADMIN_PASSWORD",
    Role.SECURITY_ADMIN: "OFFICEAPP_SECURITY_ADMIN_PASSWORD",
    Role.AUDIT_ADMIN: "OFFICEAPP_AUDIT_ADMIN_PASSWORD",
}
OPTION_OF: dict[str, str] = {
    Role.SYSTEM_ADMIN: "system",
    Role.SECURITY_ADMIN: "security",
    Role.AUDIT_ADMIN: "audit",
}


class Command(BaseCommand):
    help = (
        "创建首批三员管理员账号（系统管理员、安全管理员、审计管理员）。首次登录须修改密码并启用动态验证码。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--system", metavar="USERNAME", help="系统管理员的用户名")
        parser.add_argument("--security", metavar="USERNAME", help="安全管理员的用户名")
        parser.add_argument("--audit", metavar="USERNAME", help="审计管理员的用户名")
        parser.add_argument(
            "--password-from-env",
            action="store_true",
            help="从环境变量读取初始密码：" + "、".join(PASSWORD_ENV.values()),
        )
        parser.add_argument(
            "--force-missing", action="store_true", help="已有部分管理员时，只创建尚不存在的管理员角色"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        wanted = {role: options[OPTION_OF[role]] for role in BOOTSTRAP_NAMES if options[OPTION_OF[role]]}
        existing = set(
            RoleGrant.objects.filter(role__in=list(BOOTSTRAP_NAMES)).values_list("role", flat=True)
        )
        if existing and not options["force_missing"]:
            held = "、".join(BOOTSTRAP_NAMES[r] for r in BOOTSTRAP_NAMES if r in existing)
            raise CommandError(
                f"已存在管理员（{held}），未作更改。如只需补建缺少的管理员，请加 --force-missing。"
            )
        missing = [role for role in BOOTSTRAP_NAMES if role not in existing]
        if not missing:
            raise CommandError("三员管理员均已存在，未作更改。")
        absent = [f"--{OPTION_OF[r]}" for r in missing if r not in wanted]
        if absent:
            raise CommandError(f"请指定用户名：{' '.join(absent)}")
        names = [wanted[r] for r in missing]
        if len(set(names)) != len(names):
            raise CommandError("三员分立：三个管理员必须是三个不同的账号。")
        skipped = [BOOTSTRAP_NAMES[r] for r in wanted if r in existing]
        passwords = {role: self._password(role, options["password_from_env"]) for role in missing}
        try:
            with transaction.atomic():
                for role in missing:
                    bootstrap_admin(actor=None, username=wanted[role], role=role, password=passwords[role])
        except ValidationError as exc:
            raise CommandError("密码不符合要求：" + "；".join(exc.messages)) from exc
        except AccountsRefused as refused:
            raise CommandError(refused.message) from refused
        for role in missing:
            self.stdout.write(self.style.SUCCESS(f"已创建{BOOTSTRAP_NAMES[role]}：{wanted[role]}"))
        if skipped:
            self.stdout.write(f"已存在，未改动：{'、'.join(skipped)}")
        self.stdout.write("首次登录时须修改密码，并用身份验证器启用动态验证码。")

    def _password(self, role: str, from_env: bool) -> str:
        label = BOOTSTRAP_NAMES[role]
        if from_env:
            value = os.environ.get(PASSWORD_ENV[role], "")
            if not value:
                raise CommandError(f"环境变量 {PASSWORD_ENV[role]} 未设置（{label}的初始密码）。")
            return value
        first = getpass.getpass(f"{label}的初始密码：")
        if first != getpass.getpass(f"再次输入{label}的初始密码："):
            raise CommandError("两次输入的密码不一致。")
        if not first:
            raise CommandError("密码不能为空。")
        return first
