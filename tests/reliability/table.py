"""The loop's one table: a row per figure, a column per engine and the total."""

from __future__ import annotations

from collections import Counter

from tests.reliability.loop import Report
from tests.reliability.parts import Figures


def _total(report: Report) -> Figures:
    total = Figures()
    for figures in report.figures.values():
        for name, value in vars(figures).items():
            if isinstance(value, Counter):
                getattr(total, name).update(value)
            elif isinstance(value, list):
                getattr(total, name).extend(value)
            else:
                setattr(total, name, getattr(total, name) + value)
    return total


def render_table(report: Report) -> str:
    """The figures as aligned text, with the seed to replay them and a verdict."""
    columns = {**report.figures, "total": _total(report)}

    def yes_no(value: bool) -> str:
        return "yes" if value else "NO"

    rows: list[tuple[str, list[str]]] = [
        ("trials", [str(f.trials) for f in columns.values()]),
    ]
    fault_names = sorted({name for f in columns.values() for name in f.faults})
    rows.append(("faults injected", [str(sum(f.faults.values())) for f in columns.values()]))
    rows += [(f"  {name}", [str(f.faults[name]) for f in columns.values()]) for name in fault_names]
    input_names = sorted({name for f in columns.values() for name in f.inputs})
    rows.append(("inputs tried", [str(sum(f.inputs.values())) for f in columns.values()]))
    rows += [(f"  {name}", [str(f.inputs[name]) for f in columns.values()]) for name in input_names]
    rows += [
        ("reminders planned", [str(f.planned) for f in columns.values()]),
        ("  sent", [str(f.sent) for f in columns.values()]),
        ("  failed (refused by the server)", [str(f.failed) for f in columns.values()]),
        ("  pending", [str(f.pending) for f in columns.values()]),
        ("messages the SMTP server received", [str(f.arrived) for f in columns.values()]),
        ("inbound stored", [str(f.stored) for f in columns.values()]),
        ("  processed", [str(f.processed) for f in columns.values()]),
        ("  held for review", [str(f.held) for f in columns.values()]),
        ("  ignored (duplicate, discarded)", [str(f.ignored) for f in columns.values()]),
        ("  failed (kept with the reason)", [str(f.failed_inbound) for f in columns.values()]),
        ("  left unread", [str(f.unread) for f in columns.values()]),
        ("messages lost", [str(f.lost) for f in columns.values()]),
        ("duplicates within the window", [str(f.duplicates) for f in columns.values()]),
        (
            "duplicates beyond the window",
            [str(f.duplicates_beyond_window) for f in columns.values()],
        ),
        ("passes that hung", [str(f.hung) for f in columns.values()]),
        (
            "accounting balanced",
            [yes_no(f.outbox_balanced and f.inbox_balanced) for f in columns.values()],
        ),
    ]
    width = max(len(label) for label, _ in rows)
    widths = [
        max(len(name), *(len(values[i]) for _, values in rows)) for i, name in enumerate(columns)
    ]
    lines = [f"reliability loop: seed {report.seed}, {report.trials} trials per engine"]
    header = (
        " " * width + "  " + "  ".join(n.rjust(w) for n, w in zip(columns, widths, strict=True))
    )
    lines.append(header)
    for label, values in rows:
        cells = "  ".join(v.rjust(w) for v, w in zip(values, widths, strict=True))
        lines.append(f"{label.ljust(width)}  {cells}")
    for engine, reason in report.unavailable.items():
        lines.append(f"{engine}: not run: {reason}")
    for engine, figures in report.figures.items():
        lines += [f"{engine}: {problem}" for problem in figures.problems]
    lines.append("result: " + ("passed" if report.ok and not report.unavailable else "FAILED"))
    return "\n".join(lines)
