"""A real OpenLDAP server for the LDAP sign-in tests: /usr/sbin/slapd (Debian's `slapd` package, which
`make system-packages` installs) started on a free loopback port with a generated slapd.conf and an
mdb database in a temporary directory, loaded with a few people by slapadd, stopped at the end.

    slapd          session fixture: the running server (uri, base DN, the search account, people)
    slapd_outage   function fixture: stops the server for one test and starts it again afterwards

The tests skip only when slapd itself is not installed (the reason says how to install it); a server
that is installed but will not start fails loudly.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
MODULE_DIR = "/usr/lib/ldap"
SCHEMA_DIR = "/etc/ldap/schema"
READY_TIMEOUT_SECONDS = 20.0

BASE_DN = "dc=gd,dc=gov,dc=cn"
PEOPLE_DN = f"ou=people,{BASE_DN}"
SEARCH_DN = f"cn=officeapp,{BASE_DN}"
SEARCH_PASSWORD = "Search-Acc0unt"  # noqa: S105 - the test directory's own search account


@dataclass(frozen=True)
class Person:
    uid: str
    password: str
    name: str
    employee_no: str = ""


# The directory's people. `drafter` and `system_admin` share names with the cast; `ldap_only` has no
# officeapp user; `zhang.san` is the cast's drafter under another login, matched by 工号 (employeeNumber).
PEOPLE: tuple[Person, ...] = (
    Person("drafter", "Ldap-Drafter-1", "起草人", "E-DRAFTER"),
    Person("system_admin", "Ldap-Admin-1", "系统管理员", "E-SYSADMIN"),
    Person("clerk", "Ldap-Clerk-1", "收发员", "E-CLERK"),
    Person("ldap_only", "Ldap-Only-1", "外单位人员", "E-NOBODY"),
    Person("zhang.san", "Ldap-Zhang-1", "张三", "E-DRAFTER"),
)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ldif(people: tuple[Person, ...]) -> str:
    entries = [
        f"dn: {BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\ndc: gd\no: 广东省\n",
        f"dn: {PEOPLE_DN}\nobjectClass: organizationalUnit\nou: people\n",
        f"dn: {SEARCH_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
        f"cn: officeapp\nuserPassword: {SEARCH_PASSWORD}\n",
    ]
    for p in people:
        entry = (
            f"dn: uid={p.uid},{PEOPLE_DN}\nobjectClass: inetOrgPerson\nuid: {p.uid}\n"
            f"cn:: {_b64(p.name)}\nsn:: {_b64(p.name[:1])}\nuserPassword: {p.password}\n"
        )
        if p.employee_no:
            entry += f"employeeNumber: {p.employee_no}\n"
        entries.append(entry)
    return "\n".join(entries)


def _b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()


def _slapd_conf(directory: Path) -> str:
    # Reads are open to the search account and to each person's own bind; passwords are readable by
    # nobody (auth lets a bind compare them).
    return f"""
modulepath {MODULE_DIR}
moduleload back_mdb
include {SCHEMA_DIR}/core.schema
include {SCHEMA_DIR}/cosine.schema
include {SCHEMA_DIR}/inetorgperson.schema
pidfile {directory}/slapd.pid
argsfile {directory}/slapd.args

database mdb
maxsize 16777216
suffix "{BASE_DN}"
rootdn "cn=root,{BASE_DN}"
directory {directory}/db
access to attrs=userPassword by anonymous auth by * none
access to * by dn.exact="{SEARCH_DN}" read by self read by * none
"""


@dataclass
class SlapdServer:
    directory: Path
    port: int
    people: tuple[Person, ...] = PEOPLE
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def uri(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    base_dn = BASE_DN
    people_dn = PEOPLE_DN
    search_dn = SEARCH_DN
    search_password = SEARCH_PASSWORD

    def person(self, uid: str) -> Person:
        return next(p for p in self.people if p.uid == uid)

    def start(self) -> None:
        conf = self.directory / "slapd.conf"
        # -d 0: stay in the foreground (a child we can stop), log nothing.
        self.process = subprocess.Popen(  # noqa: S603 - fixed binary, generated config
            [SLAPD, "-f", str(conf), "-h", self.uri, "-d", "0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                raise RuntimeError(f"slapd 启动失败（退出码 {self.process.returncode}）：{err}")
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.settimeout(0.2)
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"slapd 在 {READY_TIMEOUT_SECONDS:.0f} 秒内未就绪。")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()
        self.process = None


def _build(directory: Path) -> SlapdServer:
    (directory / "db").mkdir()
    conf = directory / "slapd.conf"
    conf.write_text(_slapd_conf(directory))
    ldif = directory / "people.ldif"
    ldif.write_text(_ldif(PEOPLE), encoding="utf-8")
    loaded = subprocess.run(  # noqa: S603 - fixed binary, generated files
        [SLAPADD, "-f", str(conf), "-l", str(ldif)], capture_output=True, check=False
    )
    if loaded.returncode != 0:
        raise RuntimeError(f"slapadd 失败：{loaded.stderr.decode(errors='replace')}")
    return SlapdServer(directory=directory, port=_free_port())


@pytest.fixture(scope="session")
def slapd() -> Iterator[SlapdServer]:
    if not Path(SLAPD).exists() or not Path(SLAPADD).exists():
        # `make test` installs slapd (SYSTEM_PACKAGES): without it the LDAP sign-in is untested, which
        # must show as a failure, never as a quiet skip.
        pytest.fail("未安装 slapd（OpenLDAP 服务器）：运行 `make system-packages` 安装 slapd 与 ldap-utils。")
    directory = Path(tempfile.mkdtemp(prefix="officeapp-slapd-"))
    server = _build(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def slapd_outage(slapd: SlapdServer) -> Iterator[SlapdServer]:
    """The directory is down for this test (its port refuses connections); up again afterwards."""
    slapd.stop()
    try:
        yield slapd
    finally:
        slapd.start()
