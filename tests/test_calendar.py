"""The working calendar around 国庆 2026, unknown years, admin imports and company overrides."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import chinese_calendar
from sqlalchemy import select

from bot.calendar.unknown_years import warn_unknown_years
from bot.calendar.working_days import (
    WorkingCalendar,
    parse_calendar_file,
    set_company_day,
    statutory_holidays,
    store_official_year,
)
from bot.core.context import AppContext
from handlers.cli import main
from scheduled.jobs import check_calendar, run_due
from storage.models import OutboxMessage

D = dt.date


def load(ctx: AppContext) -> WorkingCalendar:
    with ctx.session() as session:
        return WorkingCalendar.load(session)


def test_national_day_2026(ctx: AppContext) -> None:
    calendar = load(ctx)
    for day in range(1, 8):
        assert not calendar.is_working_day(D(2026, 10, day)), f"2026-10-0{day} is a holiday"
    assert calendar.is_working_day(D(2026, 10, 10)), "Saturday 2026-10-10 is a make-up working day"
    assert calendar.is_working_day(D(2026, 9, 30))
    assert not calendar.is_working_day(D(2026, 10, 11))
    assert calendar.nth_working_day_after(D(2026, 9, 30), 1) == D(2026, 10, 8)
    assert calendar.nth_working_day_after(D(2026, 9, 30), 2) == D(2026, 10, 9)
    assert calendar.nth_working_day_after(D(2026, 9, 30), 3) == D(2026, 10, 10)
    # September's figures: open on the 1st and due on the 5th working day of October
    assert calendar.nth_working_day_of_month(2026, 10, 1) == D(2026, 10, 8)
    assert calendar.nth_working_day_of_month(2026, 10, 5) == D(2026, 10, 13)
    assert calendar.working_days_between(D(2026, 9, 30), D(2026, 10, 13)) == 5
    assert calendar.working_days_between(D(2026, 10, 13), D(2026, 9, 30)) == -5
    assert calendar.unknown_years_used == set()


def test_an_unknown_year_keeps_the_statutory_holidays_and_warns(ctx: AppContext) -> None:
    reported: list[int] = []
    with ctx.session() as session:
        calendar = WorkingCalendar.load(session, on_unknown_year=reported.append)
    assert not calendar.knows_year(2027)
    # 2027-01-01 is a Friday and New Year's Day: a holiday by rule, without the official arrangement
    assert not calendar.is_working_day(D(2027, 1, 1))
    assert calendar.nth_working_day_after(D(2026, 12, 31), 1) == D(2027, 1, 4)
    # Spring Festival (the eve and three days, lunar new year 2027-02-06), Dragon Boat, Mid-autumn, National Day
    assert [d for d in (D(2027, 2, 5), D(2027, 2, 8), D(2027, 6, 9), D(2027, 9, 15), D(2027, 10, 1))
            if calendar.is_working_day(d)] == []
    assert calendar.info(D(2027, 2, 8)).source == "statutory"
    # a holiday on a weekend is made up on the next working day: Spring Festival's Saturday and Sunday
    assert not calendar.is_working_day(D(2027, 2, 9)) and not calendar.is_working_day(D(2027, 2, 10))
    assert calendar.is_working_day(D(2027, 2, 11))
    made_up = (D(2027, 5, 3), D(2027, 5, 4), D(2027, 10, 4), D(2027, 10, 5))  # Labour Day and National Day too
    assert [d for d in made_up if calendar.is_working_day(d)] == []
    # 2028: Mid-autumn on 3 October, inside National Day, keeps a day of its own
    assert len([d for d, name in statutory_holidays(2028).items() if d.month == 10]) == 5
    # the rule gives the same holidays the official arrangement of a known year has
    assert all(not chinese_calendar.is_workday(day) for day in statutory_holidays(2026))
    assert reported == [2027]
    assert calendar.unknown_years_used == {2027}
    november, december = dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC), dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)
    for now in (november, november + dt.timedelta(days=3), december, december + dt.timedelta(days=9)):
        with ctx.session() as session:
            warn_unknown_years(session, calendar, "C0QUALITY", "zh-CN", now)
    with ctx.session() as session:
        keys = sorted(session.scalars(select(OutboxMessage.idempotency_key)))
    assert keys == ["calendar:unknown-year:2027:2026-11", "calendar:unknown-year:2027:2026-12"]


def test_calendar_job_asks_for_next_year_in_november_and_december(ctx: AppContext, emulator) -> None:  # type: ignore[no-untyped-def]
    assert check_calendar(ctx, dt.datetime(2026, 10, 8, tzinfo=dt.UTC)) == 0  # 2027 not near yet
    for day in (dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC), dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC),
                dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)):
        run_due(ctx, day)
    posts = emulator.calls_to("chat.postMessage")
    assert len(posts) == 2 and all(p.response.get("channel", "") == "C0QUALITY" for p in posts)
    assert "2027" in posts[0].args["text"] and "调休" in posts[0].args["text"]


def test_official_arrangement_import_and_company_override(ctx: AppContext, tmp_path: Path) -> None:
    sheet = tmp_path / "2027.csv"
    sheet.write_text("date,kind,note\n2027-01-01,holiday,元旦\n2027-02-06,workday,春节调休\n", encoding="utf-8")
    days, errors = parse_calendar_file(sheet)
    assert errors == []
    with ctx.session() as session:
        store_official_year(session, 2027, days, sheet.name, ctx.now())
        set_company_day(session, D(2027, 1, 4), False, "年度停产检修", ctx.now())
        set_company_day(session, D(2026, 10, 11), True, "周日加班", ctx.now())
    calendar = load(ctx)
    assert calendar.knows_year(2027)
    assert not calendar.is_working_day(D(2027, 1, 1))
    assert calendar.is_working_day(D(2027, 2, 6))  # a Saturday
    assert not calendar.is_working_day(D(2027, 1, 4))  # company shutdown
    assert calendar.is_working_day(D(2026, 10, 11))  # company Sunday shift
    assert calendar.info(D(2027, 1, 4)).source == "company"
    assert calendar.unknown_years_used == set()


def test_calendar_file_errors_name_the_row(tmp_path: Path) -> None:
    sheet = tmp_path / "bad.csv"
    sheet.write_text("date,kind,note\n2027-13-01,holiday,\n2027-01-02,maybe,\n", encoding="utf-8")
    days, errors = parse_calendar_file(sheet)
    assert [e.row for e in errors] == [2, 3]
    chinese_excel = tmp_path / "2027-gbk.csv"
    chinese_excel.write_bytes("date,kind,note\n2027-01-01,休,元旦\n".encode("gb18030"))
    days, errors = parse_calendar_file(chinese_excel)
    assert errors == [] and days == [(D(2027, 1, 1), False, "元旦")]


def test_calendar_cli(settings, tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CSATBOT_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CSATBOT_LOCALE", "en")
    sheet = tmp_path / "2027.csv"
    sheet.write_text("date,kind,note\n2027-01-01,休,元旦\n", encoding="utf-8")
    assert main(["calendar", "show", "2027"]) == 0
    assert "not loaded" in capsys.readouterr().out
    assert main(["calendar", "import", str(sheet)]) == 0
    assert main(["calendar", "show", "2027", "--json"]) == 0
    output = capsys.readouterr().out
    assert '"known": true' in output and "2027-01-01" in output
    assert main(["calendar", "set", "2027-01-04", "off", "--note", "shutdown"]) == 0
    assert main(["calendar", "show", "2026"]) == 0
    assert "National Day" in capsys.readouterr().out
