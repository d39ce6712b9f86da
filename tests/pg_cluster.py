"""A throwaway PostgreSQL server for tests: `initdb` in a temporary folder, `pg_ctl start` on a free
loopback port with password authentication, a new database per test, `pg_ctl stop` and the folder
removed at the end.

Debian keeps the server programs in /usr/lib/postgresql/<version>/bin, off PATH; `.ci/run` installs the
`postgresql` package when they are missing. The server refuses to run as root, so under root the folder
belongs to the `postgres` system user (created if missing) and the programs run through `runuser`.
"""

from __future__ import annotations

import itertools
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

PROGRAMS = ("initdb", "pg_ctl", "postgres")
SERVICE_USER = "postgres"


def find_bindir() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres: Debian's newest /usr/lib/postgresql/<version>/bin,
    else the folder of an initdb on PATH; None when there is none."""
    def version(p: Path) -> tuple:
        return tuple(int(n) for n in re.findall(r"\d+", p.parent.name))

    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    if shutil.which("initdb"):
        candidates.append(Path(shutil.which("initdb")).parent)
    return next((d for d in candidates if all((d / p).is_file() for p in PROGRAMS)), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A running server: `url(db)` for the password-protected superuser, `new_database()` per test."""

    def __init__(self, bindir: Path, root: Path, port: int, password: str, as_user: list[str]):
        self.bindir, self.root, self.port, self.password, self._as = bindir, root, port, password, as_user
        self._names = itertools.count(1)

    def url(self, dbname: str = "postgres", password: str | None = None) -> str:
        return f"postgresql://{SERVICE_USER}:{password or self.password}@127.0.0.1:{self.port}/{dbname}"

    def run(self, program: str, *args: str) -> None:
        cmd = [*self._as, str(self.bindir / program), *args]
        done = subprocess.run(cmd, cwd=self.root, capture_output=True, text=True, timeout=60)
        if done.returncode:
            log = self.root / "server.log"
            raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
                               + (log.read_text(errors="replace")[-3000:] if log.is_file() else ""))

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        name = f"test{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as con:
            con.execute(f"CREATE DATABASE {name}")
        return self.url(name)


@contextmanager
def running(bindir: Path):
    """Start a cluster from `bindir`'s programs; stop it and remove its folder on exit."""
    as_user: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="regqa-pg-"))  # in /tmp itself: pytest's own tmp is root-only (0700)
    try:
        if os.geteuid() == 0:
            try:
                pwd.getpwnam(SERVICE_USER)
            except KeyError:
                subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                                "--shell", "/usr/sbin/nologin", SERVICE_USER], check=True)
            shutil.chown(root, SERVICE_USER, SERVICE_USER)
            as_user = ["runuser", "-u", SERVICE_USER, "--"]
        password = secrets.token_urlsafe(12)
        pwfile = root / "pwfile"
        pwfile.write_text(password + "\n")
        if as_user:
            shutil.chown(pwfile, SERVICE_USER, SERVICE_USER)
        cluster = Cluster(bindir, root, free_port(), password, as_user)
        cluster.run("initdb", "-D", str(root / "data"), "-U", SERVICE_USER, f"--pwfile={pwfile}",
                    "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync")
        # loopback only, the socket in the folder (Debian's /var/run/postgresql may be missing), small memory
        options = f"-c listen_addresses=127.0.0.1 -p {cluster.port} -k {root} -c shared_buffers=16MB"
        cluster.run("pg_ctl", "-D", str(root / "data"), "-l", str(root / "server.log"), "-w", "-t", "30",
                    "-o", options, "start")
        try:
            yield cluster
        finally:
            cluster.run("pg_ctl", "-D", str(root / "data"), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)
