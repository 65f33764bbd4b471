"""Browser tests: Debian's Chromium, driven by Playwright, against the project's real ASGI application.

The server is daphne, in a thread of this process, serving `officeapp.asgi.application` (HTTP and
/ws/) on a free 127.0.0.1 port. In-process because that is the one arrangement that works with both
of our scales unchanged: with no environment variables the in-memory channel layer and the relay in
officeapp.notify only reach sockets of the process that sends, and with DATABASE_URL/REDIS_URL (CI)
the server simply talks to PostgreSQL and Redis like any daphne process would.

Data must be committed for the server's threads to see it, so every test here runs under
pytest-django's `transactional_db`. On SQLite the test database is in memory (shared cache), where
two connections that overlap in time fail at once with "database table is locked" (no busy timeout
applies); for the browser tests it is therefore copied to a file for as long as they run, which gives
the server exactly what `make run` has: WAL, busy_timeout, IMMEDIATE transactions.

Playwright's sync API keeps its event loop marked as running in the main thread between calls. Django
refuses ORM calls in a thread with a running loop (a guard against blocking async code), and asgiref
refuses async_to_sync there. The loop is idle whenever test code runs, so the ORM guard is switched
off for this package, and code that pushes through the channel layer (`notify`) runs through the
`committed` fixture, in a thread of its own, as a worker or a view would.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from django.test.utils import override_settings

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps trying to reach Google's services, which
# this machine's closed network refuses; nothing here may download or phone home.
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
RESULTS_DIR = REPO_ROOT / "test-results"
# Expectations wait this long by default: generous for a loaded CI machine, still short when broken.
EXPECT_TIMEOUT_MS = 5_000

T = TypeVar("T")


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(
            f"CI 中浏览器测试必须运行，但未找到 {CHROMIUM}（apt-get install chromium）", pytrace=False
        )
    why = f"未找到 {CHROMIUM}：以 root 运行 `make system-packages` 安装 Debian 的 chromium 后可运行浏览器测试"
    pytest.skip(reason=why)


@contextmanager
def _sqlite_on_file(directory: Path) -> Iterator[None]:
    """Move an in-memory SQLite test database to a file while the browser tests run, then move back.

    Every thread's connection is built from the same settings dict, so changing NAME there sends the
    server's threads to the file too. A plain sqlite3 connection keeps the in-memory database alive
    meanwhile (it vanishes with its last connection) and it comes back untouched afterwards: the
    browser tests are transactional, so nothing of theirs needs to be carried back.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield
        return
    memory_name = connection.settings_dict["NAME"]
    file_name = directory / "browser.sqlite3"
    connection.ensure_connection()
    keeper = sqlite3.connect(memory_name, uri=True)
    target = sqlite3.connect(file_name)
    connection.connection.backup(target)
    target.close()
    connection.settings_dict["NAME"] = str(file_name)
    connection.close()  # now a file name, so close() really closes the in-memory handle
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = memory_name
        connection.ensure_connection()
        keeper.close()


@contextmanager
def _short_lived_connections() -> Iterator[None]:
    """CONN_MAX_AGE 0 while the server runs: its threads come and go (one per request), and a
    connection left open in a finished thread would block dropping the PostgreSQL test database."""
    settings_dict = connections[DEFAULT_DB_ALIAS].settings_dict
    previous = settings_dict.get("CONN_MAX_AGE", 0)
    settings_dict["CONN_MAX_AGE"] = 0
    try:
        yield
    finally:
        settings_dict["CONN_MAX_AGE"] = previous


def _browser_application(origin_holder: list[str]) -> Any:
    """The project's application with static files served by Django and our origin allowed on /ws/.

    whitenoise has nothing collected in tests, so Django's static handler serves /static/. asgi.py
    built its OriginValidator from the settings at import time; the server's port is only known now,
    so the same inner stack (auth middleware and router) gets a validator for this origin alone.
    """
    from channels.routing import ProtocolTypeRouter
    from channels.security.websocket import OriginValidator
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    from officeapp.asgi import application

    mapping = application.application_mapping
    inner_ws = mapping["websocket"]
    while isinstance(inner_ws, OriginValidator):
        inner_ws = inner_ws.application
    return ProtocolTypeRouter(
        {
            "http": ASGIStaticFilesHandler(mapping["http"]),
            "websocket": OriginValidator(inner_ws, origin_holder),
        }
    )


class LiveServer:
    """daphne in a background thread; `url` is its origin, e.g. http://127.0.0.1:41234."""

    def __init__(self) -> None:
        from daphne.server import Server

        self.origins: list[str] = []
        self.server = Server(
            application=_browser_application(self.origins),
            endpoints=["tcp:port=0:interface=127.0.0.1"],
            signal_handlers=False,
            verbosity=0,
        )
        self.thread = threading.Thread(target=self.server.run, name="browser-daphne", daemon=True)
        self.url = ""

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.listening_addresses:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("daphne did not start listening")
            time.sleep(0.02)
        host, port = self.server.listening_addresses[0]
        self.url = f"http://{host}:{port}"
        self.origins.append(self.url)

    def stop(self) -> None:
        from twisted.internet import reactor

        reactor.callFromThread(self.server.stop)
        self.thread.join(timeout=15)
        if self.thread.is_alive():
            raise RuntimeError("daphne did not stop within 15 s")


@pytest.fixture(scope="package")
def live_asgi(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    _require_chromium()
    server = LiveServer()
    with (
        django_db_blocker.unblock(),
        _sqlite_on_file(tmp_path_factory.mktemp("browser-db")),
        _short_lived_connections(),
    ):
        server.start()
        try:
            with override_settings(
                ALLOWED_HOSTS=["127.0.0.1", "localhost", "testserver"],
                CSRF_TRUSTED_ORIGINS=[server.url],
                WEBSOCKET_ALLOWED_ORIGINS=[server.url],
            ):
                yield server
        finally:
            server.stop()
            # Channels' database_sync_to_async thread outlives the server; close what it holds.
            _close_connections_in_sync_thread()


def _close_connections_in_sync_thread() -> None:
    from asgiref.sync import SyncToAsync

    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=10)


@pytest.fixture(scope="package")
def chromium() -> Iterator[Any]:
    """One Chromium for the package; each test gets a fresh context (cookies, storage) from it."""
    _require_chromium()
    from playwright.sync_api import expect, sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    # See the module docstring: Playwright's idle loop looks "running" to Django's ORM guard.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    playwright = sync_playwright().start()
    args = [*CHROMIUM_ARGS, "--no-sandbox"] if os.geteuid() == 0 else CHROMIUM_ARGS
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args, headless=True)
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def server(live_asgi: LiveServer, transactional_db: Any) -> LiveServer:
    """The running server, with this test's data committed where the server can read it."""
    return live_asgi


@pytest.fixture
def new_context(chromium: Any, server: LiveServer) -> Iterator[Callable[..., Any]]:
    """Open browser contexts (separate cookie jars: separate people) on the server; all closed after.

    A test whose pages met a server error (5xx, also on htmx and asset requests) or an uncaught
    script error fails at teardown, naming it: a page can look right while a live part of it broke.
    """
    opened: list[Any] = []
    problems: list[str] = []

    def _watch_page(page: Any) -> None:
        page.on("pageerror", lambda error: problems.append(f"脚本错误 {page.url}: {error}"))

    def _open(**options: Any) -> Any:
        options.setdefault("locale", "zh-CN")
        options.setdefault("timezone_id", "Asia/Shanghai")
        context = chromium.new_context(base_url=server.url, **options)
        context.set_default_timeout(10_000)
        context.on("page", _watch_page)
        context.on(
            "response",
            lambda response: (
                problems.append(f"服务器错误 {response.status} {response.url}")
                if response.status >= 500
                else None
            ),
        )
        opened.append(context)
        return context

    yield _open
    for context in opened:
        context.close()
    assert not problems, "\n".join(problems)


@pytest.fixture
def page(new_context: Callable[..., Any]) -> Any:
    return new_context().new_page()


def _sign_in_through_form(page: Any, username: str, password: str) -> None:
    page.goto("/accounts/sign-in/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.locator("form:has(input[name=password]) [type=submit]").click()


@pytest.fixture
def submit_sign_in() -> Callable[[Any, str, str], None]:
    """Fill and submit the real sign-in form on `page`, as a person would, and wait for the answer."""
    return _sign_in_through_form


@pytest.fixture
def signed_in_page(new_context: Callable[..., Any], cast_password: str) -> Callable[..., Any]:
    """A page in a context of its own, signed in through the form as `user`, on the workbench."""

    def _open(user: Any, **context_options: Any) -> Any:
        page = new_context(**context_options).new_page()
        _sign_in_through_form(page, user.username, cast_password)
        return page

    return _open


@pytest.fixture
def committed(server: LiveServer) -> Callable[..., Any]:
    """Run server-side code (a service call) in a thread of its own and return its result.

    Outside Playwright's loop, so its after-commit pushes run as they would in a view or the worker;
    the thread's database connection is closed before it ends.
    """

    def _run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        def call() -> T:
            try:
                return fn(*args, **kwargs)
            finally:
                connections.close_all()

        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(call).result(timeout=30)

    return _run


@pytest.fixture
def screenshot_dir() -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    return RESULTS_DIR


def _database_url_of_test_database() -> str:
    """DATABASE_URL for another process to reach the database this test (and the server) uses."""
    settings_dict = connections[DEFAULT_DB_ALIAS].settings_dict
    if connections[DEFAULT_DB_ALIAS].vendor == "sqlite":
        return f"sqlite:///{settings_dict['NAME']}"
    credentials = quote(settings_dict.get("USER") or "", safe="")
    if settings_dict.get("PASSWORD"):
        credentials += ":" + quote(settings_dict["PASSWORD"], safe="")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{credentials}@{host}{port}/{settings_dict['NAME']}"


@pytest.fixture
def other_process(server: LiveServer) -> Callable[[str], str]:
    """Run Python code in a separate Django process (as the worker is) on this test's database.

    With no REDIS_URL its in-memory channel layer reaches nobody, which is the point: only the
    server's relay can bring what it commits to an open page.
    """

    def _run(code: str) -> str:
        env = {**os.environ, "DATABASE_URL": _database_url_of_test_database(), "TESTING": "1"}
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    return _run
