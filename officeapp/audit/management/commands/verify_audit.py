"""manage.py verify_audit [--chain X]: walk each audit chain and report its first broken row."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from officeapp.audit.chain import chains, triggers_installed, verify_chain


class Command(BaseCommand):
    help = "校验审计日志哈希链：报告每条链上第一条被修改、缺失或不衔接的记录；有损坏时退出码非零。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--chain", action="append", default=[], help="只校验这条链（如 agency:12 或 platform），可重复"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        names: list[str] = options["chain"] or chains()
        known = set(chains())
        unknown = [n for n in names if n not in known]
        if unknown:
            raise CommandError(f"没有这条审计链：{', '.join(unknown)}")
        rows = pending = 0
        broken = []
        for name in names:
            report = verify_chain(name)
            if report.broken:
                broken.append(report.broken)
                self.stderr.write(f"审计链损坏：链 {name} {report.broken.message}")
            else:
                rows += report.rows
                pending += report.pending
        if not triggers_installed():
            self.stderr.write("警告：数据库上未安装审计表的只追加触发器（迁移 audit 0004）。")
        if broken:
            raise CommandError(
                f"审计链损坏：{len(broken)} 条链未通过校验（共校验 {len(names)} 条链）。", returncode=1
            )
        self.stdout.write(f"审计链完整：{len(names)} 条链，{rows} 条记录已校验，{pending} 条待链接。")
