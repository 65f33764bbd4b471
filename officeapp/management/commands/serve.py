"""`manage.py serve`: the one foreground command behind `make run`.

Syncs the worker schedules, then starts three children — daphne (HTTP and websockets), the django-q2
cluster (`qcluster`, the queue and the minute schedules) and the ticker (sub-minute schedules) —
prints the address and the demo accounts, and waits. SIGINT (Ctrl-C) or SIGTERM stops every child
gracefully (SIGTERM, then SIGKILL after a grace period); if any child dies on its own, the others are
stopped and serve exits non-zero, so a supervisor (systemd, make) sees the failure.

The children run in their own process groups: Ctrl-C in the terminal reaches serve only, and serve
stops them in order, instead of every process receiving the signal at once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

GRACE_SECONDS = 15.0
POLL_SECONDS = 0.2


def _env_with_own_origin(environ: Mapping[str, str], host: str, port: int) -> dict[str, str]:
    """On another port than the default, the browser's Origin is http://host:port: without it in the
    allowlists the socket would be refused and forms would fail CSRF. Explicit settings win."""
    env = dict(environ)
    origin = f"http://{host}:{port}"
    for name in ("CSRF_TRUSTED_ORIGINS", "WEBSOCKET_ALLOWED_ORIGINS"):
        if name not in env:
            env[name] = ",".join(dict.fromkeys([*settings.CSRF_TRUSTED_ORIGINS, origin]))
    return env


def demo_account_lines() -> list[str]:
    """One line per fixed demo account: username, password and what the account is for."""
    from officeapp.demo import demo_accounts

    return ["  ".join(account) for account in demo_accounts()]


class Command(BaseCommand):
    help = "Run daphne, the worker cluster and the ticker in the foreground (Ctrl-C stops all)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--skip-sync", action="store_true", help="do not run sync_schedules first")

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = options["host"], options["port"]
        if not 0 < port < 65536:
            raise CommandError(f"端口无效：{port}")
        if not options["skip_sync"]:
            call_command("sync_schedules", stdout=self.stdout)

        stopping: list[int] = []

        def _on_signal(signum: int, frame: FrameType | None) -> None:
            stopping.append(signum)

        signal.signal(signal.SIGINT, _on_signal)
        signal.signal(signal.SIGTERM, _on_signal)

        python, manage = sys.executable, str(settings.BASE_DIR / "manage.py")
        commands = {
            "daphne": [python, "-m", "daphne", "-b", host, "-p", str(port), "officeapp.asgi:application"],
            "worker": [python, manage, "qcluster"],
            "ticker": [python, manage, "ticker"],
        }
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
        child_env = _env_with_own_origin(os.environ, shown_host, port)
        children: dict[str, subprocess.Popen[bytes]] = {}
        try:
            for name, command in commands.items():
                children[name] = subprocess.Popen(command, start_new_session=True, env=child_env)  # noqa: S603
            self.stdout.write(f"协同办公平台已启动：http://{shown_host}:{port}/   （Ctrl-C 停止）")
            lines = demo_account_lines()
            if lines:
                self.stdout.write("演示账号：")
                for line in lines:
                    self.stdout.write(f"  {line}")
            self.stdout.flush()

            died: tuple[str, int] | None = None
            while not stopping and died is None:
                for name, child in children.items():
                    code = child.poll()
                    if code is not None:
                        died = (name, code)
                        break
                else:
                    time.sleep(POLL_SECONDS)
        finally:
            self._stop(children)
        if died is not None:
            raise CommandError(
                f"子进程 {died[0]} 意外退出（退出码 {died[1]}），已停止其他进程。", returncode=1
            )
        self.stdout.write("已停止。")

    def _stop(self, children: dict[str, subprocess.Popen[bytes]]) -> None:
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        for name, child in children.items():
            try:
                child.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} 未在 {GRACE_SECONDS:.0f} 秒内退出，强制结束。")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)  # the cluster's own worker processes too
                child.wait()
