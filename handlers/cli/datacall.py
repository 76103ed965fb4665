"""`csatbot` commands: the monthly figures and the data call's status."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.calendar import working_days as working_calendar
from bot.core.i18n import Gettext
from bot.core.periods import is_month
from bot.core.settings import Settings
from handlers.cli.common import (
    dump_json,
    err,
    open_context,
    out,
    run_import,
)


def cmd_import_figures(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.datacall.figures import import_figures

    if args.template:
        return _write_template(settings, _, args)
    return run_import(settings, _, lambda session, ctx: import_figures(session, Path(args.file), ctx.now()),
                      lambda r: _("Imported figures: {created} new or changed, {unchanged} unchanged, {skipped} "
                                  "left empty.").format(created=r.created, unchanged=r.unchanged, skipped=r.skipped))


def _write_template(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    """`import figures --template FILE.xlsx [--month YYYY-MM]`: the form to fill in and import."""
    from bot.core.periods import current_period
    from bot.datacall.template import figures_template

    ctx = open_context(settings, _)
    month = args.month or current_period(ctx.local_today())
    if not is_month(month):
        err(_("Month {value!r} is not YYYY-MM.").format(value=month))
        return 2
    target = Path(args.file)
    if target.suffix.lower() != ".xlsx":
        err(_("The template is an Excel workbook: give a file name ending in .xlsx."))
        return 2
    with ctx.session() as session:
        content = figures_template(session, month, settings.locale, ctx.local_today())
    target.write_bytes(content)
    out(_("Wrote {path}: fill in the value column and import it with `csatbot import figures {path}`.").format(
        path=target))
    return 0


def cmd_figures_status(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.core.periods import current_period
    from bot.datacall.status import status_message, status_report

    ctx = open_context(settings, _)
    period = args.month or current_period(ctx.local_today())
    if not is_month(period):
        err(_("Month {value!r} is not YYYY-MM.").format(value=period))
        return 2
    with ctx.session() as session:
        report = status_report(session, period, ctx.local_today(), working_calendar.WorkingCalendar.load(session))
    if args.json:
        dump_json(report)
    else:
        message = status_message(report, settings.locale, limit=10_000)
        out(message.text)
        for person in report["people"]:
            if person["status"] != "submitted":
                out(f"  {person['name']} ({person['slack_user_id']}): {person['submitted']}/{person['items']}")
    return 0


def add_commands(sub: Any, imports: Any, _: Gettext) -> None:
    figures = imports.add_parser("figures", help=_("columns metric,month,customer,value (all or nothing)"))
    figures.add_argument("file", help=_("the file to read (CSV or XLSX), or with --template the .xlsx to write"))
    figures.add_argument("--template", action="store_true",
                         help=_("write an Excel form with a row for each figure the month's call asks for, to fill "
                                "in and import"))
    figures.add_argument("--month", help=_("with --template: YYYY-MM (default: the month being called for)"))
    figures.set_defaults(run=cmd_import_figures)

    figures_group = sub.add_parser("figures", help=_("the monthly data call")).add_subparsers(dest="action",
                                                                                          required=True)
    status = figures_group.add_parser("status", help=_("who has handed in a month's figures, who is late"))
    status.add_argument("--month", help=_("YYYY-MM (default: the month being called for)"))
    status.add_argument("--json", action="store_true")
    status.set_defaults(run=cmd_figures_status)
