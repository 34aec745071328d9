"""Reading a stored message within a time budget, in a reader process.

The reader (`tracker.inbound.parse.parse_message`) is pure and built to be
linear and bounded, but it reads what strangers send, and one message must
never stall intake or take the service down. So messages are read in a
reader process: forked from a small server process that has the reader
loaded, with its address space capped, and it reads message after message
(a message costs the reading alone, not a process start). When a message
runs past the budget the process is killed, and when the reader raises or
the process dies it is retired: the next message gets a fresh one. Nothing
the reader does can hold a database lock: the caller reads between
transactions. Idle reader processes are closed when the program exits
(`close_idle_readers`, registered with `atexit`), and one whose program died
sees its pipe close and exits.

What the reader logs is sent back with its answer and logged here, so the
service's log shows it as if the reader had run in the service itself.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import pickle
import signal
import sys
import threading
import traceback
import types
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache, partial
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext, SpawnContext

from tracker.config import Settings
from tracker.inbound.parse import (
    DEFAULT_MAX_BYTES,
    READER_FAILED,
    ParsedMessage,
    parse_message,
)
from tracker.services.attachments import AttachmentLimits

log = logging.getLogger(__name__)

DEFAULT_BUDGET_SECONDS = 30.0
_HEADROOM = 1024 * 1024  # the text, headers and MIME framing around a reply's files
# Far above what reading a 10 MB message needs; a cap, not a target.
MEMORY_LIMIT_BYTES = 2 * 1024**3
_EXIT_SECONDS = 5.0
_IDLE_READERS = 2  # kept waiting for the next message; more run only while several read at once
# A process that read a message larger than this is not kept: what it allocated may stay
# with it, and a later message must meet the memory cap as if read by a fresh process.
KEEP_READER_UP_TO_BYTES = 1024 * 1024

Reader = Callable[[bytes, Collection[str] | None], ParsedMessage]


class ReadingFailed(Exception):
    """The reader raised, or its process died, instead of answering: a bug or a resource limit.

    Its message is one line, fit to be shown as the reason a message failed.
    """

    def __init__(self, reason: str, details: str = "") -> None:
        super().__init__(reason)
        self.details = details  # the reader's traceback, for the log at debug level


def reading_limits(settings: Settings) -> ReadingLimits:
    """The limits the settings ask for: what of a reply's files is kept, and the largest
    message read: TRACKER_MAX_MESSAGE_MB when set, else one big enough to carry the
    attachment allowance (base64 makes files a third larger), at least the reader's own."""
    attachments = AttachmentLimits.from_settings(settings)
    if settings.max_message_mb is not None:
        max_bytes = settings.max_message_mb * 1024 * 1024
    else:
        max_bytes = max(DEFAULT_MAX_BYTES, attachments.max_message_bytes * 4 // 3 + _HEADROOM)
    return ReadingLimits(attachments=attachments, max_bytes=max_bytes)


def parse_with_refs(raw: bytes, known_refs: Collection[str] | None) -> ParsedMessage:
    """The tracker's reader, exactly as `tracker parse` calls it."""
    return parse_message(raw, known_refs=known_refs, max_bytes=DEFAULT_MAX_BYTES)


def parse_up_to(raw: bytes, known_refs: Collection[str] | None, *, max_bytes: int) -> ParsedMessage:
    """The tracker's reader with another largest message (TRACKER_MAX_MESSAGE_MB)."""
    return parse_message(raw, known_refs=known_refs, max_bytes=max_bytes)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadingLimits:
    """How a message is read: the time budget, the largest message read (larger ones are
    `too_large` without being read: TRACKER_MAX_MESSAGE_MB), and the reader (tests swap it)."""

    budget_seconds: float = DEFAULT_BUDGET_SECONDS
    max_bytes: int = DEFAULT_MAX_BYTES
    reader: Reader = parse_with_refs
    # What of a reply's attached files is kept (applied when it is recorded).
    attachments: AttachmentLimits = field(default_factory=AttachmentLimits)


def read_within_budget(
    raw: bytes,
    *,
    known_refs: Collection[str] | None = None,
    limits: ReadingLimits | None = None,
) -> ParsedMessage:
    """What the reader reads in `raw`, or `too_complex` when it takes longer than the budget.

    1. Take an idle reader process, or start one (from the fork server), and
       hand it the bytes.
    2. Wait up to the budget for its answer.
    3. No answer in time: kill the process; the message is `too_complex`,
       and the reason says the budget ran out.
    4. The reader raised, or its process died (a memory cap, a crash), or
       the reader says it failed itself (`READER_FAILED`, a bug, not a
       defect of the message): raise `ReadingFailed` with one line. A
       process whose reader raised or died is not used again.
    5. Otherwise log what the reader logged, keep the process for the next
       message (unless the message was large), and return what it read.

    The reader must be importable by name (a module-level function): the
    reader process finds it that way.
    """
    limits = limits or ReadingLimits()
    if len(raw) > limits.max_bytes:  # refused unread: the parser stops at its first check
        return parse_message(raw, known_refs=known_refs, max_bytes=limits.max_bytes)
    budget_seconds = limits.budget_seconds
    reader = limits.reader
    if reader is parse_with_refs and limits.max_bytes != DEFAULT_MAX_BYTES:
        reader = partial(parse_up_to, max_bytes=limits.max_bytes)  # picklable by name
    request = pickle.dumps(
        (reader, bytes(raw), tuple(known_refs) if known_refs is not None else None),
        protocol=pickle.HIGHEST_PROTOCOL,
    )
    process = _take_reader_process()
    answer, timed_out = process.ask(request, budget_seconds)
    if answer is not None and answer.error is None and len(raw) <= KEEP_READER_UP_TO_BYTES:
        _give_back(process)
    else:
        process.close(at_once=timed_out)
    if timed_out:
        log.warning("action=inbound.read_budget_exceeded budget=%gs", budget_seconds)
        return ParsedMessage(
            problem="too_complex",
            kind_reason=f"reading it took longer than the {budget_seconds:g} s allowed",
        )
    if answer is None:
        raise ReadingFailed(f"the reader stopped without an answer (exit code {process.exitcode})")
    for record in answer.records:
        logging.getLogger(record.name).handle(record)
    if answer.error is not None:
        raise ReadingFailed(answer.error, answer.details)
    parsed = answer.parsed
    assert parsed is not None
    if parsed.problem == "unreadable" and parsed.kind_reason == READER_FAILED:
        raise ReadingFailed(READER_FAILED)
    return parsed


@dataclass(frozen=True, slots=True)
class _Answer:
    parsed: ParsedMessage | None
    error: str | None
    details: str
    records: tuple[logging.LogRecord, ...]


class _ReaderProcess:
    """One reader process, reading message after message from its pipe until it closes."""

    def __init__(self) -> None:
        context = _context()
        self._pipe, theirs = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(theirs,), name="tracker-reader", daemon=True
        )
        with _main_module_hidden():
            self._process.start()
        theirs.close()  # the process's end: ours sees EOF when it goes away

    @property
    def exitcode(self) -> int | None:
        return self._process.exitcode

    def is_alive(self) -> bool:
        """Running and waiting for a request. A process that has died is seen at once
        through its pipe (the kernel closes its end as it exits, before it is reaped and
        `is_alive` learns of it); a waiting process never writes first."""
        return self._process.is_alive() and not self._pipe.poll(0)

    def ask(self, request: bytes, budget_seconds: float) -> tuple[_Answer | None, bool]:
        """(its answer to `request`, or None if it died; whether the budget ran out)."""
        try:
            self._pipe.send_bytes(request)
            if not self._pipe.poll(budget_seconds):
                return None, True
            answer = self._pipe.recv()
        except (EOFError, OSError):  # it died before or while answering
            return None, False
        assert isinstance(answer, _Answer)
        return answer, False

    def close(self, *, at_once: bool) -> None:
        """Close its pipe (it exits when it sees that) and reap it; kill it first if it is
        still reading (`at_once`), or will not exit."""
        self._pipe.close()
        if not at_once:
            self._process.join(timeout=_EXIT_SECONDS)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(timeout=_EXIT_SECONDS)


# Reader processes waiting for a message. Several threads may read at once (the
# web app, a test's second intake): each takes a process of its own.
_idle: list[_ReaderProcess] = []
_idle_lock = threading.Lock()


def _take_reader_process() -> _ReaderProcess:
    """An idle reader process that is still alive, else a new one."""
    while True:
        with _idle_lock:
            process = _idle.pop() if _idle else None
        if process is None:
            return _ReaderProcess()
        if process.is_alive():
            return process
        process.close(at_once=True)  # killed while it waited (out of memory, an operator)


def _give_back(process: _ReaderProcess) -> None:
    with _idle_lock:
        if len(_idle) < _IDLE_READERS:
            _idle.append(process)
            return
    process.close(at_once=False)


def close_idle_readers() -> None:
    """Close every idle reader process (registered with `atexit`; tests call it too)."""
    with _idle_lock:
        closing = _idle[:]
        _idle.clear()
    for process in closing:
        process.close(at_once=False)


atexit.register(close_idle_readers)


@contextmanager
def _main_module_hidden() -> Iterator[None]:
    """Start a child without the program's main module.

    The child needs only this module and the reader, which the fork server has
    loaded. Told of the main module, multiprocessing imports it again in every
    child: for the `tracker` script that is the whole CLI (Flask, SQLAlchemy…),
    hundreds of milliseconds a message instead of a few. (The fork server's own
    "__main__" preload would do it once, but Python < 3.14 never passes it
    the main module's path.) The swap lasts while the child's preparation data
    is gathered; nothing else of the tracker reads `__main__`.
    """
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


@cache
def _context() -> ForkServerContext | SpawnContext:
    """The fork server where available (a clean, single-threaded parent), else spawn."""
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        return context
    return multiprocessing.get_context("spawn")


class _Collecting(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        # Picklable: the message formatted, the traceback as text.
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args, record.exc_info = record.getMessage(), None, None
        self.records.append(record)


def _serve(pipe: Connection) -> None:
    """The reader process: read each message sent, answer, until the pipe closes."""
    # Its life is the parent's to decide: Ctrl-C in a terminal reaches the whole
    # process group, and the parent closes the pipe (or kills it) when it stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _limit_memory()
    handler = _Collecting()
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    while True:
        try:
            request = pipe.recv_bytes()
        except EOFError:  # the parent closed the pipe, or died
            return
        handler.records = []
        try:
            reader, raw, known_refs = pickle.loads(request)
            parsed = reader(raw, known_refs)
        except BaseException as error:  # the parent decides; it must hear about it
            reason = f"reading it raised {type(error).__name__}: {_first_line(error)}"
            answer = _Answer(None, reason, traceback.format_exc(), tuple(handler.records))
        else:
            answer = _Answer(parsed, None, "", tuple(handler.records))
        pipe.send(answer)


def _limit_memory() -> None:
    try:
        import resource
    except ImportError:  # not on this platform; the time budget still holds
        return
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = MEMORY_LIMIT_BYTES if hard == resource.RLIM_INFINITY else min(hard, MEMORY_LIMIT_BYTES)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else "(no message)"
