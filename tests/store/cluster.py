"""A throwaway PostgreSQL cluster for the tests: Debian's binaries, a temp dir, a loopback port.

`scripts/test.sh` installs Debian's `postgresql` package where its binaries are missing. The
cluster runs as the `postgres` OS user when the tests run as root (PostgreSQL refuses root),
trusts loopback connections only, and is thrown away at the end of the session.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.support import free_port

PG_ROOT = os.environ.get("STUDIO_PG_ROOT", "/usr/lib/postgresql")
_names = itertools.count()


def find_bindir() -> Path | None:
    """The newest `/usr/lib/postgresql/<ver>/bin` with initdb and pg_ctl (or those on PATH)."""
    found = sorted(glob.glob(f"{PG_ROOT}/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("pg_ctl") else None


class Cluster:
    def __init__(self) -> None:
        self.bindir = find_bindir()
        if self.bindir is None:
            raise RuntimeError(f"no PostgreSQL binaries under {PG_ROOT}/<ver>/bin nor on PATH "
                               "(bash scripts/test.sh installs Debian's postgresql)")
        self.root = Path(tempfile.mkdtemp(prefix="studio-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None

    @property
    def admin_url(self) -> str:
        return f"postgresql://studio@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://studio@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {done.stdout}{done.stderr}{log[-2000:]}")

    def start(self) -> Cluster:
        self.root.chmod(0o755)
        self.data.mkdir(mode=0o700)
        self.log.touch()
        if self.user:
            entry = pwd.getpwnam(self.user)
            for path in (self.data, self.log):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "studio", "-A", "trust", "-E", "UTF8",
                  "--no-sync", "--locale=C")
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
                   " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")
        return self

    def create_database(self) -> str:
        import psycopg

        name = f"t{os.getpid()}_{next(_names)}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
