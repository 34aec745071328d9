"""A private Dovecot IMAP server for the integration tests.

Each `DovecotServer` writes its own configuration into a temporary directory
(runtime sockets, logs, state, the password file and the Maildir all live
there), listens on a free port of 127.0.0.1 with plaintext login, and runs
`dovecot -F` as a child process.

With tls=True it offers STARTTLS and implicit TLS on a self-signed
certificate and *requires* TLS before any login, as a production server
should, so a client that forgets to upgrade the connection fails. Dovecot
counts a connection whose two ends share one address as secure (and would
let it log in in clear), so a TLS server listens on 127.0.0.2: clients
connect from 127.0.0.1, and the exemption does not apply.

Nothing of the system's Dovecot (its config, its service, its ports) is read
or touched, so a CI machine that has just installed the package
(`.ci/dovecot.sh`) can run several of these.

As root (CI), Dovecot refuses to open mailboxes as uid 0, so mail processes run
as the package's unprivileged `dovecot` user, login processes as `dovenull`,
and the mail directory is handed to that user. As an ordinary user, every
process runs as that user and the chroots that need root are switched off.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

from imapclient import IMAPClient

from tests.tls import write_self_signed_certificate

DOVECOT_BINARY = "dovecot"


class DovecotUnavailable(RuntimeError):
    """The dovecot binary is not installed (see .ci/dovecot.sh)."""


def dovecot_binary() -> str | None:
    """Path of the dovecot binary, also looked up in sbin (not always on PATH)."""
    found = shutil.which(DOVECOT_BINARY)
    if found:
        return found
    for candidate in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def dovecot_version(binary: str) -> tuple[int, int]:
    """(major, minor) of the installed Dovecot, e.g. (2, 3)."""
    out = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    match = re.match(r"\s*(\d+)\.(\d+)", out)
    if not match:
        raise RuntimeError(f"cannot read the Dovecot version from {out!r}")
    return int(match.group(1)), int(match.group(2))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class DovecotServer:
    """One private Dovecot instance; use as a context manager or start()/stop()."""

    def __init__(
        self, *, username: str = "tracker", password: str = "s3cret-Pa55", tls: bool = False
    ) -> None:
        binary = dovecot_binary()
        if binary is None:
            raise DovecotUnavailable(
                "dovecot is not installed (run .ci/dovecot.sh to install dovecot-imapd)"
            )
        self.binary = binary
        self.version = dovecot_version(binary)
        self.username = username
        self.password = password
        self.tls = tls
        self.host = "127.0.0.2" if tls else "127.0.0.1"
        self.port = _free_port()
        # With tls=True: STARTTLS on `port`, implicit TLS on `tls_port`, and a
        # self-signed certificate for `host` at `cert_path` for clients to trust.
        self.tls_port = _free_port() if tls else 0
        self._process: subprocess.Popen[bytes] | None = None
        self._tmp = Path(tempfile.mkdtemp(prefix="tracker-dovecot-"))
        # mkdtemp gives 0700; the unprivileged mail and auth users must get in.
        self._tmp.chmod(0o755)
        self.config_path = self._tmp / "dovecot.conf"
        self.cert_path = self._tmp / "cert.pem"
        self.key_path = self._tmp / "key.pem"
        self.log_path = self._tmp / "dovecot.log"

    # -- lifecycle ---------------------------------------------------------

    def start(self, timeout: float = 20.0) -> DovecotServer:
        """Write the config, start `dovecot -F` and wait until the port accepts."""
        self._write_config()
        check = subprocess.run(
            [self.binary, "-c", str(self.config_path), "-n"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if check.returncode != 0:
            raise RuntimeError(f"dovecot rejected the test config: {check.stderr.strip()}")
        self._process = subprocess.Popen(
            [self.binary, "-F", "-c", str(self.config_path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=(self._tmp / "stderr.log").open("wb"),
            # Its own process group, so stop() can also end the children that
            # outlive the master (imap, log and stats processes do).
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"dovecot exited at start:\n{self.logs()}")
            with contextlib.suppress(OSError):
                socket.create_connection((self.host, self.port), timeout=1).close()
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dovecot did not listen on port {self.port} in {timeout}s")

    def stop(self, grace: float = 2.0) -> None:
        """Stop the server and every process it started; safe to call twice.

        The whole group gets SIGTERM at once, so open IMAP sessions end like a
        server going away and no child outlives the test. Dovecot's log process
        sometimes waits seconds for clients that are already gone; after `grace`
        seconds the group is killed, which loses nothing a test needs.
        """
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        # Stragglers that outlived the master go too: the group is ours alone.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)

    def close(self) -> None:
        """Stop and remove every file of this instance."""
        self.stop()
        shutil.rmtree(self._tmp, ignore_errors=True)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def __enter__(self) -> DovecotServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- use -----------------------------------------------------------------

    @property
    def url(self) -> str:
        """`imap://user:pass@127.0.0.1:PORT/INBOX`, credentials percent-encoded."""
        user = quote(self.username, safe="")
        password = quote(self.password, safe="")
        return f"imap://{user}:{password}@{self.host}:{self.port}/INBOX"

    @property
    def imaps_url(self) -> str:
        """`imaps://…:TLS_PORT/INBOX` (only with tls=True)."""
        if not self.tls:
            raise RuntimeError("this DovecotServer was started without tls=True")
        return self.url.replace("imap://", "imaps://").replace(
            f":{self.port}/", f":{self.tls_port}/"
        )

    def client(self) -> IMAPClient:
        """A logged-in IMAPClient for arranging and inspecting the mailbox (TLS when required)."""
        if self.tls:
            context = ssl.create_default_context(cafile=str(self.cert_path))
            client = IMAPClient(
                self.host, port=self.tls_port, ssl=True, ssl_context=context, timeout=30
            )
        else:
            client = IMAPClient(self.host, port=self.port, ssl=False, timeout=30)
        client.login(self.username, self.password)
        return client

    def deliver(self, raw: bytes, folder: str = "INBOX") -> int:
        """Put one raw message into `folder` as a new, unseen message; return its UID."""
        with self.client() as client:
            response = client.append(folder, raw, flags=())
            # Dovecot answers with UIDPLUS: [APPENDUID <uidvalidity> <uid>] ...
            match = re.search(rb"APPENDUID \d+ (\d+)", response)
            if match is None:
                raise RuntimeError(f"no APPENDUID in {response!r}")
            return int(match.group(1))

    def flags(self, folder: str = "INBOX") -> dict[int, tuple[bytes, ...]]:
        """UID -> flags of every message in `folder` (read-only look)."""
        with self.client() as client:
            client.select_folder(folder, readonly=True)
            fetched = client.fetch("1:*", ["FLAGS"]) if client.search("ALL") else {}
            return {uid: tuple(data[b"FLAGS"]) for uid, data in fetched.items()}

    def logs(self) -> str:
        parts = []
        for name in ("stderr.log", "dovecot.log"):
            path = self._tmp / name
            if path.exists():
                parts.append(path.read_text(errors="replace"))
        return "\n".join(parts)

    # -- config ----------------------------------------------------------------

    def _accounts(self) -> tuple[str, str, int, int]:
        """(internal user, login user, mail uid, mail gid) for this process's identity."""
        if os.geteuid() == 0:
            # Dovecot will not open mail as root; the package creates these users.
            try:
                mail = pwd.getpwnam("dovecot")
                pwd.getpwnam("dovenull")
            except KeyError as exc:
                raise DovecotUnavailable(
                    "running as root needs the 'dovecot' and 'dovenull' users "
                    "that the dovecot-core package creates"
                ) from exc
            return "dovecot", "dovenull", mail.pw_uid, mail.pw_gid
        me = pwd.getpwuid(os.geteuid())
        return me.pw_name, me.pw_name, me.pw_uid, os.getegid()

    def _write_config(self) -> None:
        internal_user, login_user, uid, gid = self._accounts()
        home = self._tmp / "mail" / self.username
        home.mkdir(parents=True, exist_ok=True)
        for directory in (home.parent, home):
            os.chown(directory, uid, gid)
        for name in ("run", "state"):
            (self._tmp / name).mkdir(exist_ok=True)
        users = self._tmp / "users"
        # user:password:uid:gid:gecos:home:shell; the test password is stored in clear.
        users.write_text(f"{self.username}:{{PLAIN}}{self.password}:{uid}:{gid}::{home}::\n")
        users.chmod(0o644)
        group = grp.getgrgid(gid).gr_name
        root = os.geteuid() == 0
        if self.version >= (2, 4):
            text = self._config_24(internal_user, login_user, uid, group, users, root)
        else:
            text = self._config_23(internal_user, login_user, uid, group, users, root)
        self.config_path.write_text(text)

    def _common(self, internal_user: str, login_user: str, uid: int, group: str) -> str:
        # Without root, sockets cannot be handed to the package's 'dovecot' group.
        internal_group = "" if os.geteuid() == 0 else f"default_internal_group = {group}\n"
        return f"""\
base_dir = {self._tmp / "run"}
state_dir = {self._tmp / "state"}
instance_name = tracker-test-{self.port}
log_path = {self.log_path}
info_log_path = {self.log_path}
protocols = imap
listen = {self.host}
{self._tls_settings()}
auth_mechanisms = plain login
default_internal_user = {internal_user}
{internal_group}default_login_user = {login_user}
first_valid_uid = {uid}
mail_uid = {uid}
mail_gid = {group}
shutdown_clients = yes
# Tests log in with a wrong password on purpose; no need to wait 2 s for it.
auth_failure_delay = 0
"""

    def _tls_settings(self) -> str:
        if not self.tls:
            return "ssl = no"
        if not self.cert_path.exists():
            write_self_signed_certificate(self.cert_path, self.key_path, host=self.host)
        # required: no login of any kind before TLS (plaintext or not).
        if self.version >= (2, 4):
            return (
                f"ssl = required\nssl_server_cert_file = {self.cert_path}\n"
                f"ssl_server_key_file = {self.key_path}"
            )
        return f"ssl = required\nssl_cert = <{self.cert_path}\nssl_key = <{self.key_path}"

    def _services(self, address_key: str, root: bool) -> str:
        # Without root there is no chroot; the login and anvil processes chroot by default.
        chroot = "" if root else "  chroot =\n"
        return f"""\
service imap-login {{
{chroot}  inet_listener imap {{
    {address_key} = {self.host}
    port = {self.port}
  }}
  inet_listener imaps {{
    {address_key} = {self.host}
    port = {self.tls_port}
  }}
}}
service anvil {{
{chroot}}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""

    def _config_23(
        self, internal_user: str, login_user: str, uid: int, group: str, users: Path, root: bool
    ) -> str:
        return (
            self._common(internal_user, login_user, uid, group)
            + f"""\
disable_plaintext_auth = {"yes" if self.tls else "no"}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {users}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {users}
}}
"""
            + self._services("address", root)
        )

    def _config_24(
        self, internal_user: str, login_user: str, uid: int, group: str, users: Path, root: bool
    ) -> str:
        # 2.4 renamed many settings and insists on the version lines coming first.
        # Written from the 2.4 documentation; the machines we test on ship 2.3.
        return (
            "dovecot_config_version = 2.4.0\ndovecot_storage_version = 2.4.0\n"
            + self._common(internal_user, login_user, uid, group)
            + f"""\
auth_allow_cleartext = {"no" if self.tls else "yes"}
mail_driver = maildir
mail_path = ~/Maildir
passdb passwd-file {{
  passwd_file_path = {users}
  default_password_scheme = PLAIN
}}
userdb passwd-file {{
  passwd_file_path = {users}
}}
"""
            + self._services("listen", root)
        )


def start_dovecot(*, tls: bool = False) -> DovecotServer:
    """A new DovecotServer; skip without Dovecot, except under CI where that is a failure."""
    from tests.services import service_missing

    if dovecot_binary() is None:
        service_missing("dovecot is not installed (bash .ci/dovecot.sh installs dovecot-imapd)")
    try:
        return DovecotServer(tls=tls)
    except DovecotUnavailable as exc:
        service_missing(str(exc))
