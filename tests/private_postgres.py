"""A private PostgreSQL server for tests that stop or restart it (never the shared one on 5432).

    with PrivatePostgres.started() as server:
        url = server.create_database("tracker")
        ...
        server.restart()

initdb into a temporary folder, listening on 127.0.0.1 on a free port with
trust authentication; run as the `postgres` user when the tests run as root
(PostgreSQL refuses to run as root). Skips (fails under CI) without initdb.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from sqlalchemy import text

from tests.services import service_missing
from tests.smtp_server import free_port
from tracker.db.session import make_engine


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PrivatePostgres:
    def __init__(self, folder: Path, binaries: Path) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self._bin = binaries
        self._user = pwd.getpwnam("postgres") if os.geteuid() == 0 else None

    def _run(self, *args: str) -> None:
        command = [str(self._bin / args[0]), *args[1:]]
        if self._user is not None:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            os.chown(self.folder, self._user.pw_uid, self._user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off"
        self._run(
            "pg_ctl",
            action,
            "-D",
            str(self.data),
            "-w",
            "-t",
            "60",
            "-o",
            options,
            "-l",
            str(self.folder / "server.log"),
            *extra,
        )

    def start(self) -> None:
        self._pg_ctl("start")

    def stop(self) -> None:
        self._pg_ctl("stop", "-m", "fast")

    def restart(self) -> None:
        """Stop (ending every connection, as a crash or an upgrade would), then start."""
        self._pg_ctl("restart", "-m", "fast")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        admin = make_engine(self.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return self.url(name)

    @classmethod
    @contextmanager
    def started(cls) -> Iterator[PrivatePostgres]:
        binaries = _binaries()
        if binaries is None:
            service_missing("initdb is not installed: no private PostgreSQL to restart")
        folder = Path(tempfile.mkdtemp(prefix="tracker-pg-"))
        os.chmod(folder, 0o755)
        server = cls(folder / "pg", binaries)
        try:
            server.init()
            server.start()
            yield server
        finally:
            with suppress(subprocess.CalledProcessError):
                server.stop()
            shutil.rmtree(folder, ignore_errors=True)
