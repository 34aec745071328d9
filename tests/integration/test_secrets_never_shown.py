"""A failing run, with passwords in every URL: no output, log line or --json document of any
command shows a secret (SMTP and IMAP passwords, the database's, the secret key)."""

from __future__ import annotations

from pathlib import Path

from tests.cli import Result, run_tracker
from tests.smtp_server import SmtpTestServer, free_port

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests/data/programmes/small.yaml"
CHECK_IN = "2019-06-24T08:00:00+00:00"
SMTP_PASSWORD = "Smtp-Pa55word-never-shown"
IMAP_PASSWORD = "Imap-Pa55word-never-shown"
DB_PASSWORD = "Db-Pa55word-never-shown"
SECRET_KEY = "Secret-key-never-shown-0123456789abcdef"
SECRETS = (SMTP_PASSWORD, IMAP_PASSWORD, DB_PASSWORD, SECRET_KEY)


def assert_no_secret(results: list[tuple[tuple[str, ...], Result]]) -> None:
    for args, result in results:
        output = result.stdout + result.stderr
        for secret in SECRETS:
            assert secret not in output, (args, secret, output[-500:])
            assert secret.lower() not in output.lower(), (args, secret)
        assert "Traceback" not in output, (args, output[-500:])


def test_a_failing_run_shows_no_secret_in_any_output(tracker_env: dict[str, str]) -> None:
    closed = free_port()
    imap = f"imap://followup:{IMAP_PASSWORD}@127.0.0.1:{closed}/INBOX"
    env = {**tracker_env, "TRACKER_SECRET_KEY": SECRET_KEY, "TRACKER_IMAP_URL": imap}
    results: list[tuple[tuple[str, ...], Result]] = []

    def run(*args: str, env: dict[str, str] = env) -> Result:
        result = run_tracker(*args, env=env)
        results.append((args, result))
        return result

    assert run("import", str(SMALL)).code == 0
    with SmtpTestServer(credentials={"followup": "the-right-one"}) as server:
        wrong = f"smtp://followup:{SMTP_PASSWORD}@127.0.0.1:{server.port}"
        refused = {**env, "TRACKER_SMTP_URL": wrong}
        assert run("-v", "send-due", "--now", CHECK_IN, env=refused).code == 1
        assert run("send-due", "--now", CHECK_IN, "--json", env=refused).code == 1
    # A server that is not there: every reminder waits for a retry with its error.
    gone = {**env, "TRACKER_SMTP_URL": f"smtp://followup:{SMTP_PASSWORD}@127.0.0.1:{closed}"}
    run("-v", "send-due", "--now", CHECK_IN, "--json", env=gone)
    waiting = run("outbox", "--json", env=gone)
    assert waiting.code == 0
    assert waiting.json()["messages"], "the failed pass left nothing to show"
    assert any(m["error"] for m in waiting.json()["messages"])
    for args in (
        ("-v", "fetch-mail"),
        ("fetch-mail", "--json"),
        ("-v", "status", "--json"),
        ("status",),
        ("review", "--json"),
        ("outbox",),
        ("-v", "preview", "--participant", "wang.xiaoming@example.org"),
    ):
        run(*args, env=gone)
    bad_database = {
        **env,
        "TRACKER_DATABASE_URL": f"postgresql+psycopg://tracker:{DB_PASSWORD}@127.0.0.1:{closed}/x",
    }
    for args in (("status",), ("-v", "send-due", "--json"), ("ingest", "--exit-tempfail")):
        said = run(*args, env=bad_database)
        assert said.code != 0
    assert len(results) >= 14
    assert_no_secret(results)
