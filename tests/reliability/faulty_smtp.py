"""An SMTP server on loopback that fails once, in a chosen way, at a chosen stage.

    with FaultySmtpServer() as server:
        server.arm(Fault(stage="rcpt", action="452", at=2))   # the 2nd RCPT TO gets 452
        ...send...
        server.fired        # the faults that really happened
        server.messages     # the raw messages it accepted (dot-unstuffed)

Stages: `connect` (the greeting), `ehlo`, `mail`, `rcpt`, `data` (the DATA
command), `mid_data` (while the message is being transmitted) and
`end_of_data` (the final dot). Actions: an SMTP reply code (`421`, `451`,
`452`, `550`, `552`; 421 also closes the connection, as servers do), `drop`
(close the connection without a word), `stall` (say nothing until the test
ends: the client's timeout must end the wait), `reset` (close with a TCP
reset) and, at `end_of_data` only, `accept_reset` (answer 250, then reset).

A fault at `end_of_data` that is not a refusal (`drop`, `stall`, `reset`,
`accept_reset`) keeps the message: the server delivered it but the client
cannot know. That is the documented duplicate window, and the only way a
correct sender may send a message twice.

Raw sockets rather than aiosmtpd: aiosmtpd answers the greeting, EHLO and the
DATA command itself, and cannot be made to fail there.
"""

from __future__ import annotations

import socket
import struct
import threading
from dataclasses import dataclass, field
from types import TracebackType
from typing import BinaryIO, Self

STAGES = ("connect", "ehlo", "mail", "rcpt", "data", "mid_data", "end_of_data")
CODES = ("421", "451", "452", "550", "552")
_TEXT = {
    "421": "421 4.3.2 Service shutting down",
    "451": "451 4.3.0 Local error in processing",
    "452": "452 4.3.1 Insufficient system storage",
    "550": "550 5.7.1 Refused by policy",
    "552": "552 5.3.4 Message size exceeds fixed limit",
}


def fault_kinds() -> list[tuple[str, str]]:
    """Every (stage, action) the server can inject."""
    kinds: list[tuple[str, str]] = [("connect", "421"), ("connect", "stall"), ("connect", "reset")]
    for stage in ("ehlo", "mail", "rcpt", "data"):
        kinds.extend((stage, code) for code in CODES)
    kinds.append(("ehlo", "drop"))
    kinds.append(("mid_data", "drop"))
    kinds.extend(("end_of_data", code) for code in CODES)
    kinds.extend(("end_of_data", action) for action in ("drop", "stall", "reset", "accept_reset"))
    return kinds


@dataclass(frozen=True)
class Fault:
    stage: str
    action: str
    at: int = 1  # the n-th time the stage is reached (over all connections)

    @property
    def name(self) -> str:
        return f"{self.stage} {self.action}"

    @property
    def keeps_message(self) -> bool:
        """Whether the server kept the message although the client heard no 250 (or lost it)."""
        return self.stage == "end_of_data" and self.action in (
            "drop",
            "stall",
            "reset",
            "accept_reset",
        )


class _Hangup(Exception):
    """The fault ended the connection."""


@dataclass
class _State:
    fault: Fault | None = None
    counts: dict[str, int] = field(default_factory=dict)
    fired: list[Fault] = field(default_factory=list)
    messages: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class FaultySmtpServer:
    host = "127.0.0.1"

    def __init__(self) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((self.host, 0))
        self._listener.listen(16)
        self.port = int(self._listener.getsockname()[1])
        self._state = _State()
        self._closing = threading.Event()
        self._connections: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    # -- what tests use ---------------------------------------------------------

    def arm(self, fault: Fault | None) -> None:
        """Fail once with `fault` (None: behave), counting stages from now."""
        with self._state.lock:
            self._state.fault = fault
            self._state.counts = {}

    @property
    def fired(self) -> list[Fault]:
        with self._state.lock:
            return list(self._state.fired)

    @property
    def messages(self) -> list[bytes]:
        with self._state.lock:
            return list(self._state.messages)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing.set()
        self._listener.close()
        for connection in list(self._connections):
            connection.close()
        self._thread.join(timeout=5)

    # -- the server -------------------------------------------------------------

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            self._connections.append(connection)
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _due(self, stage: str) -> Fault | None:
        """The fault to inject now at `stage`, if this is its moment (it fires once)."""
        with self._state.lock:
            self._state.counts[stage] = self._state.counts.get(stage, 0) + 1
            fault = self._state.fault
            if fault is None or fault.stage != stage or self._state.counts[stage] != fault.at:
                return None
            self._state.fault = None
            self._state.fired.append(fault)
            return fault

    def _inject(self, connection: socket.socket, fault: Fault) -> None:
        if fault.action in _TEXT:
            connection.sendall(_TEXT[fault.action].encode() + b"\r\n")
            if fault.action == "421":
                raise _Hangup
            return
        if fault.action == "stall":
            self._closing.wait()
        elif fault.action in ("reset", "accept_reset"):
            if fault.action == "accept_reset":
                connection.sendall(b"250 2.0.0 Accepted\r\n")
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        raise _Hangup

    def _serve(self, connection: socket.socket) -> None:
        try:
            with connection:
                self._converse(connection, connection.makefile("rb"))
        except (_Hangup, OSError):
            return

    def _converse(self, connection: socket.socket, reader: BinaryIO) -> None:
        fault = self._due("connect")
        if fault is not None:
            self._inject(connection, fault)
        connection.sendall(b"220 faulty.example ESMTP\r\n")
        while True:
            line = reader.readline(4096)
            if not line:
                return
            verb = line[:4].upper()
            stage = {b"EHLO": "ehlo", b"HELO": "ehlo", b"MAIL": "mail", b"RCPT": "rcpt"}.get(verb)
            if verb == b"DATA":
                stage = "data"
            if stage is not None:
                fault = self._due(stage)
                if fault is not None:
                    self._inject(connection, fault)
                    if fault.action in _TEXT:
                        continue
            if verb == b"EHLO":
                connection.sendall(b"250-faulty.example\r\n250-8BITMIME\r\n250 SIZE 100000000\r\n")
            elif verb == b"DATA":
                connection.sendall(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                self._receive(connection, reader)
            elif verb == b"QUIT":
                connection.sendall(b"221 Bye\r\n")
                return
            elif verb in (b"HELO", b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                connection.sendall(b"250 OK\r\n")
            else:
                connection.sendall(b"502 5.5.2 Not implemented\r\n")

    def _receive(self, connection: socket.socket, reader: BinaryIO) -> None:
        lines: list[bytes] = []
        mid_data_checked = False
        while True:
            line = reader.readline(1_000_000)
            if not line:
                raise _Hangup
            if line in (b".\r\n", b".\n"):
                break
            lines.append(line[1:] if line.startswith(b"..") else line)
            if not mid_data_checked and len(lines) >= 5:
                mid_data_checked = True
                fault = self._due("mid_data")
                if fault is not None:
                    self._inject(connection, fault)
        raw = b"".join(lines)
        fault = self._due("end_of_data")
        if fault is not None and fault.keeps_message:
            with self._state.lock:
                self._state.messages.append(raw)
        if fault is not None:
            self._inject(connection, fault)
            return
        with self._state.lock:
            self._state.messages.append(raw)
        connection.sendall(b"250 2.0.0 Accepted\r\n")
