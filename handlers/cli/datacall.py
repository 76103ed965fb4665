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

    return run_import(settings, _, lambda session, ctx: import_figures(session, Path(args.file), ctx.now()),
                       lambda r: _("Imported figures: {created} new or changed, {unchanged} unchanged.").format(
                           created=r.created, unchanged=r.unchanged))


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
    figures.add_argument("file")
    figures.set_defaults(run=cmd_import_figures)

    figures_group = sub.add_parser("figures", help=_("the monthly data call")).add_subparsers(dest="action",
                                                                                          required=True)
    status = figures_group.add_parser("status", help=_("who has handed in a month's figures, who is late"))
    status.add_argument("--month", help=_("YYYY-MM (default: the month being called for)"))
    status.add_argument("--json", action="store_true")
    status.set_defaults(run=cmd_figures_status)
