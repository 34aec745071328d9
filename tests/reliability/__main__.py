"""`python -m tests.reliability [--trials N] [--seed S] [--engine sqlite|postgresql|both]`."""

from __future__ import annotations

import argparse
import random
import sys

from tests.reliability.loop import ENGINES, run_loop
from tests.reliability.parts import Figures
from tests.reliability.table import render_table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.reliability",
        description="Kill senders and the service, fail SMTP in every way, pipe hostile mail; "
        "print one table of what was lost, duplicated and accounted for.",
    )
    parser.add_argument("--trials", type=int, default=50, help="trials per engine (default 50)")
    parser.add_argument("--seed", type=int, help="replay a run (default: a random seed, printed)")
    parser.add_argument(
        "--engine", choices=[*ENGINES, "both"], default="both", help="default: both"
    )
    options = parser.parse_args(argv)
    if options.trials < 1:
        parser.error("--trials must be at least 1")
    seed = options.seed if options.seed is not None else random.SystemRandom().randrange(2**32)
    engines = ENGINES if options.engine == "both" else (options.engine,)
    print(f"seed {seed} (replay with --seed {seed})", flush=True)

    def progress(engine: str, figures: Figures) -> None:
        print(
            f"{engine} trial {figures.trials}/{options.trials}: "
            f"faults {sum(figures.faults.values())}, inputs {sum(figures.inputs.values())}, "
            f"lost {figures.lost}, duplicates beyond the window "
            f"{figures.duplicates_beyond_window}, hung {figures.hung}, balanced "
            f"{'yes' if figures.outbox_balanced and figures.inbox_balanced else 'NO'}, "
            f"problems {len(figures.problems)}",
            file=sys.stderr,
            flush=True,
        )

    report = run_loop(trials=options.trials, seed=seed, engines=engines, progress=progress)
    print(render_table(report))
    return 0 if report.ok and not report.unavailable else 1


if __name__ == "__main__":
    sys.exit(main())
