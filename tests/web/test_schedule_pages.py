"""The schedule editor: the rules as a form, the preview, saving (Flask's test client)."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.web.conftest import World
from tracker.db.orm import Event, FollowUpRule, Programme

SLUG = "small-programme"
URL = f"/programmes/{SLUG}/schedule"


def form_of(body: str) -> dict[str, str]:
    """The rule fields as the page filled them in (what a browser would send back)."""
    fields = dict(
        re.findall(
            r'<input type="(?:text|hidden)" id="[^"]*" name="(rule-[^"]+)" value="([^"]*)"', body
        )
    )
    fields.update(re.findall(r'<input type="hidden" name="(rule-[^"]+)" value="([^"]*)"', body))
    for name, value in re.findall(
        r'<select id="[^"]*" name="(rule-\d+-kind)">.*?<option value="([^"]*)" selected', body, re.S
    ):
        fields[name] = value
    return fields


def test_the_page_shows_the_rules_and_what_they_will_send(world: World) -> None:
    client = world.client()
    client.sign_in("officer@example.org")
    body = client.get(URL).get_data(as_text=True)
    assert 'value="1 month"' in body
    assert "What the current rules will send" in body
    assert "王晓明" in body
    assert "13 Sept 2019 Mid-Autumn Festival" in body  # public holidays in the window, by name
    assert 'class="badge kind-check_in"' in body


def test_an_edited_rule_changes_the_preview_and_only_save_stores_it(world: World) -> None:
    client = world.client()
    client.sign_in("officer@example.org")
    fields = form_of(client.get(URL).get_data(as_text=True))
    assert fields["rule-0-kind"] == "check_in"
    before = client.post(URL, {**fields, "action": "preview"}).get_data(as_text=True)
    weekly = {**fields, "rule-0-every": "1 week", "rule-0-count": "", "action": "preview"}
    after = client.post(URL, weekly).get_data(as_text=True)
    count = re.compile(r'class="count-check_in">(\d+)<')
    assert int(count.search(after).group(1)) > int(count.search(before).group(1)) * 3  # type: ignore[union-attr]
    assert "Not saved yet." in after
    with world.factory() as session:
        assert (
            session.scalar(
                select(FollowUpRule.every_unit)
                .join(Programme)
                .where(Programme.slug == SLUG, FollowUpRule.position == 0)
            )
            == "month"
        )
    saved = client.post(URL, {**weekly, "action": "save"}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "The schedule is saved" in saved
    assert "check_in rule: every 1 month → every 1 week" in saved
    with world.factory() as session:
        assert (
            session.scalar(
                select(FollowUpRule.every_unit)
                .join(Programme)
                .where(Programme.slug == SLUG, FollowUpRule.position == 0)
            )
            == "week"
        )
        event = session.scalars(select(Event).where(Event.action == "schedule.changed")).one()
        assert event.actor == "coordinator:officer@example.org"


def test_a_wrong_field_is_marked_and_nothing_is_saved(world: World) -> None:
    client = world.client()
    client.sign_in("officer@example.org")
    fields = form_of(client.get(URL).get_data(as_text=True))
    response = client.post(
        URL, {**fields, "rule-0-every": "fortnightly", "rule-2-max": "0", "action": "save"}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "&#39;fortnightly&#39; is not a period" in body
    assert "&#39;0&#39; is not a whole number from 1 to 10,000" in body
    with world.factory() as session:
        assert session.scalars(select(Event).where(Event.action == "schedule.changed")).all() == []


def test_a_rule_can_be_added_and_removed(world: World) -> None:
    client = world.client()
    client.sign_in("officer@example.org")
    fields = form_of(client.get(URL).get_data(as_text=True))
    rules = {k: v for k, v in fields.items() if not k.startswith(("rule-4-", "rule-5-"))}
    added = {
        **rules,
        "rule-1-remove": "1",
        "rule-4-kind": "before_due",
        "rule-4-days": "14",
        "rule-4-at": "10:00",
        "action": "save",
    }
    body = client.post(URL, added, follow_redirects=True).get_data(as_text=True)
    assert ("before_due rule: days 7 → days 14; before_due rule: at 09:30 → at 10:00") in body
    with world.factory() as session:
        kinds = session.execute(
            select(FollowUpRule.kind, FollowUpRule.days)
            .join(Programme)
            .where(Programme.slug == SLUG)
            .order_by(FollowUpRule.position)
        ).all()
    assert [tuple(k) for k in kinds] == [
        ("check_in", None),
        ("overdue", None),
        ("escalate", None),
        ("before_due", 14),
    ]


def test_a_chinese_reader_sees_the_holidays_named_in_chinese(world: World) -> None:
    client = world.client()
    client.sign_in("officer@example.org")
    client.get("/programmes")
    client.post("/language", {"language": "zh_CN"}, headers={"Referer": "http://localhost/"})
    body = client.get(URL).get_data(as_text=True)
    assert "2019年9月13日 中秋节" in body
    assert "Mid-Autumn Festival" not in body
