"""An SMTP server that accepts every message and keeps none: the benchmarks' mail server.

It runs in its own process (`python -m benchmarks.suite.sink PORT`), so that its
work is not counted against the sender's process; `running_sink()` starts it on
a free loopback port and stops it afterwards.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

HOST = "127.0.0.1"


class _Discard:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK"


def serve(port: int) -> None:
    from aiosmtpd.controller import Controller

    controller = Controller(_Discard(), hostname=HOST, port=port, data_size_limit=0)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with suppress(KeyboardInterrupt):
        stop.wait()
    controller.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_sink() -> Iterator[int]:
    """Start the sink in a child process; yield its port."""
    port = free_port()
    child = subprocess.Popen([sys.executable, "-m", "benchmarks.suite.sink", str(port)])
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection((HOST, port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or child.poll() is not None:
                    raise RuntimeError("the SMTP sink did not start") from None
                time.sleep(0.05)
        yield port
    finally:
        child.terminate()
        child.wait(timeout=10)


if __name__ == "__main__":
    serve(int(sys.argv[1]))
