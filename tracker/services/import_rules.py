"""A programme's follow-up rules on import: compared kind by kind, replaced as a whole.

Their occurrence keys never depend on a rule's position, so replacing the rows
(rather than updating them in place) resends nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tracker.db.orm import FollowUpRule, Programme
from tracker.programme.spec import RuleSpec
from tracker.services.import_report import Change, ImportReport, field_changes, shown


def _rule_values(rule: RuleSpec | FollowUpRule) -> dict[str, Any]:
    if isinstance(rule, FollowUpRule):
        return {
            "kind": rule.kind,
            "at_time": rule.at_time,
            "every_count": rule.every_count,
            "every_unit": rule.every_unit,
            "first_on": rule.first_on,
            "count": rule.count,
            "days": rule.days,
            "every_days": rule.every_days,
            "max_count": rule.max_count,
            "after_unanswered": rule.after_unanswered,
        }
    return {
        "kind": rule.kind.value,
        "at_time": rule.at.strftime("%H:%M") if rule.at else None,
        "every_count": rule.every_count,
        "every_unit": rule.every_unit,
        "first_on": rule.first,
        "count": rule.count,
        "days": rule.days,
        "every_days": rule.every_days,
        "max_count": rule.max_count,
        "after_unanswered": rule.after_unanswered,
    }


def _rule_as_written(values: dict[str, Any]) -> dict[str, Any]:
    """A rule's values under the file's own keys ("every": "2 weeks", "max": 3)."""
    count, unit = values["every_count"], values["every_unit"]
    every = f"{count} {unit}{'s' if count != 1 else ''}" if count is not None else None
    written = {
        "every": every,
        "first": values["first_on"],
        "count": values["count"],
        "days": values["days"],
        "every_days": values["every_days"],
        "max": values["max_count"],
        "after_unanswered": values["after_unanswered"],
        "at": values["at_time"],
    }
    return {key: value for key, value in written.items() if value is not None}


def _rule_changes(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[Change]:
    """Rules compared kind by kind (the first check_in with the first check_in, …)."""
    changes: list[Change] = []
    kinds = dict.fromkeys(values["kind"] for values in [*old, *new])
    for kind in kinds:
        before = [_rule_as_written(v) for v in old if v["kind"] == kind]
        after = [_rule_as_written(v) for v in new if v["kind"] == kind]
        subject = f"{kind} rule"
        for position in range(max(len(before), len(after))):
            if position >= len(after):
                described = ", ".join(f"{k} {shown(v)}" for k, v in before[position].items())
                changes.append(
                    Change(entity="rule", subject=subject, what="removed", note=described)
                )
            elif position >= len(before):
                described = ", ".join(f"{k} {shown(v)}" for k, v in after[position].items())
                changes.append(Change(entity="rule", subject=subject, what="added", note=described))
            else:
                keys = dict.fromkeys([*before[position], *after[position]])
                pairs = {k: (before[position].get(k), after[position].get(k)) for k in keys}
                changes.extend(field_changes("rule", subject, pairs))
    return changes


def import_rules(
    programme: Programme, rules: tuple[RuleSpec, ...], *, session: Session, report: ImportReport
) -> bool:
    """Replace the programme's rules when they differ; say whether they did."""
    wanted = [_rule_values(rule) for rule in rules]
    current = [_rule_values(rule) for rule in programme.rules]
    if current == wanted:
        return False
    # Only the order changed, or nothing a reader would see: still one line, never none.
    changes = _rule_changes(current, wanted) or [
        Change(
            entity="rule",
            subject="follow-up rules",
            what="changed",
            field="order",
            old="as before",
            new="as in the file",
        )
    ]
    report.add(*changes)
    programme.rules.clear()
    # Flush the deletions first: the unit of work inserts before it deletes, and
    # (programme, position) is unique.
    session.flush()
    programme.rules.extend(
        FollowUpRule(position=position, **values) for position, values in enumerate(wanted)
    )
    return True
