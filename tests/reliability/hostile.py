"""Hostile inbound messages for the fault loop, each shape by name, from a seeded random source.

Sizes are chosen to stay well inside the reader's bounds' neighbourhood
(large enough that a quadratic path would show, small enough for a loop
that runs many trials); the unit and integration suites test each shape at
its full size.
"""

from __future__ import annotations

import random
from collections.abc import Callable

Shape = Callable[[random.Random, bytes], bytes]


def _mutated(rng: random.Random, base: bytes) -> bytes:
    data = bytearray(base)
    for _ in range(rng.randint(1, 40)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def _truncated(rng: random.Random, base: bytes) -> bytes:
    return base[: rng.randrange(1, len(base))]


def _random_bytes(rng: random.Random, base: bytes) -> bytes:
    return rng.randbytes(rng.randint(0, 4000))


def _nul_bytes(rng: random.Random, base: bytes) -> bytes:
    head, _, body = base.partition(b"\n\n")
    return head.replace(b"Subject: ", b"Subject: \x00", 1) + b"\n\n1: done\x00\x00\n" + body


def _deep_nesting(rng: random.Random, base: bytes) -> bytes:
    depth = rng.randint(200, 1200)
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (n, n) for n in range(depth)
    )
    return (
        b"From: a@example.org\nMessage-ID: <deep-%d@example.org>\n" % rng.randrange(10**9)
        + opening
        + b"Content-Type: text/plain\n\n1: done\n"
    )


def _many_parts(rng: random.Random, base: bytes) -> bytes:
    parts = rng.randint(1000, 4000)
    body = b"".join(b"--x\nContent-Type: text/plain\n\npart %d\n" % n for n in range(parts))
    return (
        b"From: a@example.org\nMessage-ID: <parts-%d@example.org>\n"
        b'Content-Type: multipart/mixed; boundary="x"\n\n'
        % rng.randrange(10**9)
        + body
        + b"--x--\n"
    )


def _long_header(rng: random.Random, base: bytes) -> bytes:
    return b"X-Long: " + b"a" * 1_000_000 + b"\n" + base


def _huge_cc(rng: random.Random, base: bytes) -> bytes:
    addresses = b", ".join(b"p%d@example.org" % n for n in range(rng.randint(5000, 20000)))
    return b"Cc: " + addresses + b"\n" + base


def _invalid_charset(rng: random.Random, base: bytes) -> bytes:
    return (
        b"From: =?x-no-such-charset?q?=FF=FE?= <a@example.org>\n"
        b"Subject: =?utf-8?b?////?= =?gb2312?q?=B2=E2?=\n"
        b"Message-ID: <charset-%d@example.org>\n"
        b"Content-Type: text/plain; charset=x-unknown-%d\n\n"
        % (rng.randrange(10**9), rng.randrange(99))
        + bytes(rng.randrange(128, 256) for _ in range(500))
    )


def _backtracking_bait(rng: random.Random, base: bytes) -> bytes:
    lines = [
        b"1" + b" " * 20000 + b"x",
        b"On " + b"Mon, " * 5000 + b"wrote",
        b">" * 20000 + b" quoted",
        b"9" * 4301 + b":",
        "百分之".encode() + b"9" * 5000,
        b"1: " + b"%" * 20000,
    ]
    rng.shuffle(lines)
    body = b"\n".join(lines)
    return (
        b"From: a@example.org\nMessage-ID: <bait-%d@example.org>\n\n" % rng.randrange(10**9) + body
    )


SHAPES: dict[str, Shape] = {
    "mutated reply": _mutated,
    "truncated MIME": _truncated,
    "random bytes": _random_bytes,
    "NUL bytes": _nul_bytes,
    "deep nesting": _deep_nesting,
    "thousands of parts": _many_parts,
    "1 MB header": _long_header,
    "thousands of Cc": _huge_cc,
    "invalid charsets": _invalid_charset,
    "backtracking bait": _backtracking_bait,
}
