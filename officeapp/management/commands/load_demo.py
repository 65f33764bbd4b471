"""`manage.py load_demo [--if-empty]`: build the demo province (广东) once.

Without --if-empty a database that already holds agencies or users is refused, so the demo never
mixes into real data; `make run` passes --if-empty so that re-running keeps what is there.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from officeapp.demo import DEMO_TOTP_SECRETS, demo_accounts, load_demo_province, province_exists
from officeapp.registries import demo_builders


class Command(BaseCommand):
    help = "构建演示省份（广东）：机关、处室、约 2,000 名用户、角色、分管、委托与固定演示账号。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty", action="store_true", help="数据库已有数据时什么也不做（make run 使用）。"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if province_exists():
            if options["if_empty"]:
                self.stdout.write("数据库中已有组织数据，保留现有数据，不再加载演示省份。")
                return
            raise CommandError(
                "数据库中已有机关或用户，拒绝加载演示省份（以免与现有数据混杂）。"
                "如需保留现有数据并跳过，请使用 --if-empty。"
            )
        started = time.monotonic()
        summary = load_demo_province(stdout=self.stdout.write)
        # The apps above officeapp add their own demo data (公文 in every state …) through a registry.
        for key in sorted(demo_builders.keys()):
            line = demo_builders[key](self.stdout.write)
            if line:
                self.stdout.write(line)
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"演示省份已建成：{summary.agencies} 个机关，{summary.departments} 个处室，{summary.users} 名用户，"
                f"{summary.notifications} 条演示通知，用时 {elapsed:.1f} 秒。"
            )
        )
        self.stdout.write("演示账号（密码相同）：")
        for username, password, description in demo_accounts():
            self.stdout.write(f"  {username:<14} {password}  {description}")
        self.stdout.write("三员登录还需动态口令（TOTP，仅供演示）：把下列密钥加入身份验证器应用，或运行")
        self.stdout.write(
            '  .venv/bin/python manage.py shell -c "from officeapp.demo import demo_totp_code; '
            "print(demo_totp_code('sysadmin'))\""
        )
        for username, secret in DEMO_TOTP_SECRETS.items():
            self.stdout.write(f"  {username:<14} {secret}")
