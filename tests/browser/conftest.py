"""A real `tracker serve` on a free port, and Debian's Chromium driven by Playwright.

Never downloads a browser: Chromium comes from `TRACKER_TEST_CHROMIUM` or
/usr/bin/chromium; missing, the tests skip locally and fail under CI.
Screenshots go to `TRACKER_TEST_ARTEFACTS` (default tests/browser/artefacts/).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.cli import tracker_executable
from tests.conftest import TEST_SECRET_KEY
from tests.services import service_missing
from tests.web.conftest import World, build_world

ARTEFACTS = Path(
    os.environ.get("TRACKER_TEST_ARTEFACTS") or Path(__file__).resolve().parent / "artefacts"
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class Server:
    url: str
    world: World


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(settings: dict[str, str], folder: Path, *, port: int | None = None) -> Iterator[str]:
    """`tracker serve` with these TRACKER_ settings, until the block ends; yields its URL."""
    port = port or _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(settings)
    log = (folder / "serve.log").open("wb")
    process = subprocess.Popen(
        [tracker_executable(), "serve", "--port", str(port)],
        env=env,
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/sign-in", timeout=1)
                break
            except OSError:
                if process.poll() is not None:
                    raise AssertionError((folder / "serve.log").read_text()) from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture
def server(db_url: str, session_factory: sessionmaker[Session], tmp_path: Path) -> Iterator[Server]:
    if not db_url.startswith("sqlite"):
        pytest.skip("the browser tests run against SQLite; the pages' tests cover PostgreSQL")
    world = build_world(session_factory)
    settings = {
        "TRACKER_DATABASE_URL": db_url,
        "TRACKER_SECRET_KEY": TEST_SECRET_KEY,
        "TRACKER_FROM": "Programme Office <followup@example.org>",
    }
    with serving(settings, tmp_path) as url:
        yield Server(url=url, world=world)


@pytest.fixture
def chromium_path() -> str:
    path = (
        os.environ.get("TRACKER_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    )
    if not Path(path).is_file():
        service_missing(f"Chromium is not installed ({path}); apt-get install chromium")
    return path


@pytest.fixture
def artefacts() -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    return ARTEFACTS
