"""Exports and the printable report, through Flask's test client."""

from __future__ import annotations

import csv
import io

import openpyxl

from tests.web.conftest import HOSTILE, World

SLUG = "small-programme"


def test_both_exports_download_and_open(world: World) -> None:
    client = world.client()
    client.sign_in("officer@example.org")
    page = client.get(f"/programmes/{SLUG}/exports").get_data(as_text=True)
    assert f"/programmes/{SLUG}/exports/updates?format=xlsx" in page
    response = client.raw.get(f"/programmes/{SLUG}/exports/updates?format=csv")
    assert (
        response.headers["Content-Disposition"]
        == f'attachment; filename="{SLUG}-updates-2019-07-01.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert [(r["email"], r["ref"], r["status"], r["source"]) for r in rows] == [
        ("wang.xiaoming@example.org", "1", "done", "email"),
        ("wang.xiaoming@example.org", "2", "in_progress", "email"),
    ]
    assert rows[0]["note"] == HOSTILE  # text, not markup: a spreadsheet shows it as written
    assert rows[0]["message id"] == "<wang@example.org>"
    xlsx = client.raw.get(f"/programmes/{SLUG}/exports/actions?format=xlsx")
    assert xlsx.headers["Content-Disposition"].endswith(f"filename={SLUG}-actions-2019-07-01.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data))["actions"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:3] == ["programme", "email", "name"]
    assert [(v[1], v[5], v[8]) for v in values[1:]] == [
        ("wang.xiaoming@example.org", "1", "done"),
        ("wang.xiaoming@example.org", "2", "in_progress"),
        ("anna@example.org", "1", "not_started"),
    ]
    # Another programme's figures never leak into this one's export.
    assert all(v[0] == SLUG for v in values[1:])


def test_the_report_has_its_figures_as_text_and_charts(world: World) -> None:
    client = world.client()
    client.sign_in("officer@example.org")
    body = client.get(f"/programmes/{SLUG}/report").get_data(as_text=True)
    assert "Progress report" in body
    assert "<svg" in body
    assert "Actions by status" in body
    assert "北京市西城区生态环境局" in body  # progress by organisation
    assert "June 2019" in body  # the month of the replies, in the timeline
    assert HOSTILE not in body  # escaped wherever it shows


def test_the_report_in_chinese_writes_months_as_chinese_does(world: World) -> None:
    client = world.client()
    client.sign_in("officer@example.org")
    client.get("/programmes")
    client.post("/language", {"language": "zh_CN"}, headers={"Referer": "http://localhost/"})
    body = client.get(f"/programmes/{SLUG}/report").get_data(as_text=True)
    assert "2019年6月" in body  # the timeline's month, in the chart and the table
    assert "六月 2019" not in body
    assert "6月 2019" not in body
