"""`tracker demo`: the whole story runs with no setup and no network."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from email import message_from_bytes, policy
from pathlib import Path

from tests.cli import run_tracker, tracker_executable


def test_the_demo_tells_the_whole_story(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    result = run_tracker("demo", "--no-serve", "--folder", str(folder), cwd=tmp_path)
    assert result.code == 0, result.stderr
    out = result.stdout
    assert out.startswith(
        "Imported Capacity Building for Chinese Cities on Climate Change and Air Quality "
        "Policies: 12 participants, 25 actions"
    )
    assert "12 check-in reminders sent" in out
    assert "wang.xiaoming@xicheng.example.cn: 3 update(s) recorded" in out
    assert "soojin.kim@seoul.example.org: 2 update(s) recorded" in out
    assert "a delivery failure report: bounce: wu.fang@hunan.example.cn" in out
    assert (
        "ma.chao@tongzhou.example.cn: answered on their personal page: 2 update(s), 1 file kept"
        in out
    )
    # The status table is headed by the programme's name, not a coordinator's.
    assert (
        "shrdc-2019-china  Capacity Building for Chinese Cities on Climate Change and Air "
        "Quality Policies\n" in out
    )
    assert "Mei Lin" not in out
    assert "Park Ji-won" not in out
    assert (
        "someone@example.net: held for a coordinator: the sender is not the participant the "
        "reminder went to, or the sender's address could not be read unambiguously\n" in out
    )
    assert "sender_mismatch" not in out  # the code is for scripts (`review --json`)
    assert "escalation ×" in out
    assert "试点低排放物流配送区" in out  # the status table
    sent = sorted((folder / "outbox").glob("*.eml"))
    assert len(sent) > 40
    first = message_from_bytes(sent[0].read_bytes(), policy=policy.default)
    assert first["Auto-Submitted"] == "auto-generated"
    # Every reminder carries the participant's personal link to the demo's dashboard.
    assert "http://127.0.0.1:8000/u/" in first.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    # The demo's database is a real one that the other commands can read.
    env = {"TRACKER_DATABASE_URL": f"sqlite:///{folder / 'demo.db'}"}
    status = run_tracker("status", "--json", env=env, cwd=tmp_path).json()
    wang = status["programmes"][0]["participants"][0]
    assert wang["actions"][0]["status"] == "done"
    assert run_tracker("review", "--json", env=env, cwd=tmp_path).json()["held"][0]["reason"] == (
        "sender_mismatch"
    )
    # A second run starts afresh rather than piling up.
    again = run_tracker("demo", "--no-serve", "--folder", str(folder), cwd=tmp_path)
    assert again.code == 0
    assert len(sorted((folder / "outbox").glob("*.eml"))) == len(sent)


def test_the_demo_ends_serving_the_dashboard_with_a_sign_in_that_works(tmp_path: Path) -> None:
    """The README's first command: the story, then the dashboard on its database."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    process = subprocess.Popen(
        [tracker_executable(), "demo", "--folder", str(tmp_path / "demo"), "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if "sign in as" in line:
                break
        said = "".join(lines)
        found = re.search(r"sign in as (\S+) with the password (\S+)", said)
        assert found, said
        assert f"http://127.0.0.1:{port}/" in said
        email, password = found.groups()
        assert email == "mei.lin@iclei-eastasia.example.org"  # the example's first coordinator
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):  # the URL is printed just before the server listens
            try:
                form = opener.open(f"{base}/sign-in", timeout=10).read().decode()
                break
            except OSError:
                time.sleep(0.1)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
        assert token is not None
        data = urllib.parse.urlencode(
            {"csrf_token": token.group(1), "email": email, "password": password}
        ).encode()
        opener.open(f"{base}/sign-in", data=data, timeout=10)
        page = opener.open(f"{base}/programmes/shrdc-2019-china", timeout=10).read().decode()
        assert "Capacity Building for Chinese Cities on Climate Change and Air Quality" in page
        assert "王晓明" in page
    finally:
        process.terminate()
        process.wait(timeout=20)
