"""The reliability suite: a fault-injection loop over real processes and servers.

`python -m tests.reliability` (or `make reliability`) runs it and prints one
table of figures; `tests/integration/test_reliability_loop.py` runs the same
loop with a few trials.
"""
