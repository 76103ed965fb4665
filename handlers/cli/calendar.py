"""`csatbot` commands: the working calendar."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from bot.calendar import working_days as working_calendar
from bot.core.i18n import Gettext
from bot.core.settings import Settings
from handlers.cli.common import (
    dump_json,
    err,
    open_context,
    out,
    report_row_errors,
    year_number,
)


def cmd_calendar_import(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    ctx = open_context(settings, _)
    path = Path(args.file)
    days, errors = working_calendar.parse_calendar_file(path)
    if errors:
        return report_row_errors(_, errors)
    years = sorted({d.year for d, _w, _n in days} | ({args.year} if args.year else set()))
    if not years:
        err(_("The file lists no days."))
        return 1
    with ctx.session() as session:
        for year in years:
            count = working_calendar.store_official_year(session, year, days, path.name, ctx.now())
            out(_("Official arrangement for {year} loaded: {count} special days.").format(year=year, count=count))
    return 0


def cmd_calendar_show(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    ctx = open_context(settings, _)
    with ctx.session() as session:
        calendar = working_calendar.WorkingCalendar.load(session)
    known = calendar.knows_year(args.year)
    days = calendar.special_days(args.year)
    if args.json:
        dump_json({"year": args.year, "known": known,
                   "days": [{"date": d.day.isoformat(), "working": d.is_working, "source": d.source, "note": d.note}
                            for d in days]})
        return 0
    if not known:
        out(_("⚠ {year} is not loaded: the statutory holidays are counted by rule, make-up working days are not "
              "known. Load it with `csatbot calendar import FILE`.")
            .format(year=args.year))
    out(_("Days in {year} that differ from Monday to Friday:").format(year=args.year))
    weekdays = _("Mon Tue Wed Thu Fri Sat Sun").split()
    for info in days:
        if info.is_working:
            kind = _("make-up working day") if info.day.weekday() >= 5 else _("working day")
        else:
            kind = _("day off")
        note = _(info.note) if info.note else ""
        out(f"  {info.day.isoformat()} {weekdays[info.day.weekday()]}  {kind}  {note}  [{info.source}]")
    return 0


def cmd_calendar_set(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    ctx = open_context(settings, _)
    try:
        day = dt.date.fromisoformat(args.date)
    except ValueError:
        err(_("Date {value!r} is not YYYY-MM-DD.").format(value=args.date))
        return 1
    state = {"working": True, "off": False, "clear": None}[args.kind]
    with ctx.session() as session:
        working_calendar.set_company_day(session, day, state, args.note or "", ctx.now())
    out(_("Company calendar updated for {day}.").format(day=day.isoformat()))
    return 0


def add_commands(sub: Any, imports: Any, _: Gettext) -> None:
    cal = sub.add_parser("calendar", help=_("the working calendar")).add_subparsers(dest="action", required=True)
    cal_import = cal.add_parser("import", help=_("load an official arrangement: CSV date,kind,note"))
    cal_import.add_argument("file")
    cal_import.add_argument("--year", type=year_number, help=_("the year the file covers (if it lists no day of it)"))
    cal_import.set_defaults(run=cmd_calendar_import)
    cal_show = cal.add_parser("show", help=_("holidays and make-up working days of a year"))
    cal_show.add_argument("year", type=year_number, help=_("the year, YYYY"))
    cal_show.add_argument("--json", action="store_true")
    cal_show.set_defaults(run=cmd_calendar_show)
    cal_set = cal.add_parser("set", help=_("a company override for one day"))
    cal_set.add_argument("date", help=_("the day, YYYY-MM-DD"))
    cal_set.add_argument("kind", choices=["working", "off", "clear"],
                         help=_("a working day, a day off, or back to the official calendar"))
    cal_set.add_argument("--note", default="", help=_("why (shown with the day)"))
    cal_set.set_defaults(run=cmd_calendar_set)
