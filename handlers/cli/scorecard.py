"""`csatbot` commands: scorecard events and scores."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.core.i18n import Gettext
from bot.core.periods import is_month
from bot.core.settings import Settings
from handlers.cli.common import (
    dump_json,
    err,
    open_context,
    out,
    run_import,
    year_number,
)


def cmd_import_events(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.scorecard.events import import_events

    return run_import(settings, _,
                       lambda session, ctx: import_events(session, Path(args.file), ctx.now(), today=ctx.local_today(),
                                                          locale=ctx.locale),
                       lambda r: _("Imported scorecard events: {created} new, {skipped} already imported.").format(
                           created=r.created, skipped=r.skipped))


def cmd_score(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.people.customers import find_customer
    from bot.scorecard.answers import fmt, grade_name
    from bot.scorecard.book import ScoreBook

    if bool(args.month) == bool(args.year):
        err(_("Give either --month YYYY-MM or --year YYYY."))
        return 2
    ctx = open_context(settings, _)
    with ctx.session() as session:
        customer = find_customer(session, args.customer).found
        if customer is not None and args.customer.lower() not in (
                customer.code.lower(), customer.name_zh.lower(), customer.name_en.lower()):
            customer = None  # for audits and scripts: the exact code or name, never a guess
        if customer is None:
            err(_("Unknown customer {value!r}.").format(value=args.customer))
            return 1
        book = ScoreBook(session)
        codes = {customer.id: customer.code}
        if args.month:
            if not is_month(args.month):
                err(_("Month {value!r} is not YYYY-MM.").format(value=args.month))
                return 2
            score = book.monthly(codes, [args.month]).get((customer.id, args.month))
            rules = book.rules_for(args.month)
            data: dict[str, Any] = score.to_json() if score else {
                "customer": customer.code, "month": args.month, "quality": None, "delivery": None, "kpi": None,
                "customer_scorecard": None, "total": None, "grade": None, "deductions": [], "evaluated": False}
            data.setdefault("evaluated", score is not None)
        else:
            annual = book.annual(codes, args.year)[customer.id]
            rules = book.rules_for(f"{args.year}-12")
            data = annual.to_json()
    if args.json:
        dump_json(data)
        return 0
    name = customer.name_zh if settings.locale == "zh-CN" else customer.name_en
    if args.month:
        if data["total"] is None:
            out(_("No deliveries and no scorecard input in {month}: the month is not scored.").format(month=args.month))
            return 0
        out(f"{customer.code} {name} {args.month}: {fmt(data['total'])} "
            f"({grade_name(rules, data['grade'], settings.locale)})")
        for category in ("quality", "delivery", "kpi", "customer_scorecard"):
            out(f"  {category}: {fmt(data[category])}")
        for deduction in data["deductions"]:
            out(f"  −{fmt(deduction['points'])} {deduction['date']} {deduction['type']} ×{deduction['count']} "
                f"({deduction['entered_by'] or deduction['source']})")
    else:
        out(f"{customer.code} {name} {args.year}: {fmt(data['annual'])} "
            f"({grade_name(rules, data['grade'], settings.locale)}), "
            + _("{mean} over {n} month(s) evaluated").format(mean=fmt(data["monthly_mean"]), n=data["months"]))
    return 0


def add_commands(sub: Any, imports: Any, _: Gettext) -> None:
    events = imports.add_parser("events", help=_("columns customer,date,type,count,note (all or nothing)"))
    events.add_argument("file")
    events.set_defaults(run=cmd_import_events)
    score = sub.add_parser("score", help=_("a customer's monthly or annual score"))
    score.add_argument("--customer", required=True, help=_("code or name"))
    score.add_argument("--month", help=_("YYYY-MM"))
    score.add_argument("--year", type=year_number, help=_("YYYY"))
    score.add_argument("--json", action="store_true")
    score.set_defaults(run=cmd_score)
