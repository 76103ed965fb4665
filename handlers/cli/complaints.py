"""`csatbot` commands: complaints, their ledger import and their deadline rules."""

from __future__ import annotations

import argparse
import json
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
)


def cmd_import_complaints(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.complaints.ledger_import import import_complaints

    return run_import(settings, _, lambda session, ctx: import_complaints(session, Path(args.file), ctx.now(), ctx.tz),
                      lambda r: _("Complaints: {created} new, {updated} updated, {unchanged} unchanged, {skipped} left "
                                  "as they are (handled in csatbot since).").format(
                          created=r.created, updated=r.updated, unchanged=r.unchanged, skipped=r.skipped),
                      dry_run=args.dry_run)


def cmd_complaints_list(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.complaints.ledger import complaint_json, list_complaints

    ctx = open_context(settings, _)
    with ctx.session() as session:
        found = list_complaints(session, args.status, None, ctx.now(), limit=args.limit)
        rows = [complaint_json(session, c, ctx.tz) for c in found]
    if args.json:
        dump_json(rows)
    else:
        for row in rows:
            out(f"{row['number']}  {row['customer']}  {row['severity']}  {row['status']}  {row['received_at']}  "
                f"{row['symptom'][:40]}")
    return 0


def cmd_complaints_show(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.complaints.ledger import complaint_json, find

    ctx = open_context(settings, _)
    with ctx.session() as session:
        data = complaint_json(session, find(session, args.number), ctx.tz)
    if args.json:
        dump_json(data)
    else:
        for key, value in data.items():
            out(f"{key}: {json.dumps(value, ensure_ascii=False, default=str)}")
    return 0


def cmd_complaints_stats(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.complaints.statistics import monthly_stats
    from bot.core.periods import last_complete_month

    ctx = open_context(settings, _)
    month = args.month or last_complete_month(ctx.now(), ctx.tz)
    if not is_month(month):
        err(_("Month {value!r} is not YYYY-MM.").format(value=month))
        return 2
    with ctx.session() as session:
        dump_json(monthly_stats(session, month, ctx.tz, ctx.now()))
    return 0


def cmd_sla_set(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.complaints.deadlines import set_rule
    from bot.people.customers import find_customer

    ctx = open_context(settings, _)
    with ctx.session() as session:
        customer_id = None
        if args.customer:
            customer = find_customer(session, args.customer).found
            if customer is None or customer.code.lower() != args.customer.lower():
                err(_("Unknown customer {value!r}.").format(value=args.customer))
                return 1
            customer_id = customer.id
        set_rule(session, customer_id, args.milestone, args.severity, args.amount, args.unit)
    out(_("Deadline rule saved; it applies to complaints received from now on."))
    return 0


def cmd_sla_list(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.complaints.deadlines import list_rules

    with open_context(settings, _).session() as session:
        dump_json(list_rules(session))
    return 0


def add_commands(sub: Any, imports: Any, _: Gettext) -> None:
    import_complaints = imports.add_parser(
        "complaints", help=_("a complaint ledger: customer,received_at,severity,symptom (optional number,"
                           "product_model,quantity,batch,contact_name,contact_phone,status,first_response_at,"
                           "investigated_at,eight_d_at,closed_at,reply); importing it again updates"))
    import_complaints.add_argument("file")
    import_complaints.add_argument("--dry-run", action="store_true", help=_("show what would change, write nothing"))
    import_complaints.set_defaults(run=cmd_import_complaints)

    complaints = sub.add_parser("complaints", help=_("complaints")).add_subparsers(dest="action", required=True)
    complaints_list = complaints.add_parser("list", help=_("complaints, newest first"))
    complaints_list.add_argument("--status", choices=["open", "overdue", "all"], default="all",
                                 help=_("which complaints"))
    complaints_list.add_argument("--limit", type=int, default=1000)
    complaints_list.add_argument("--json", action="store_true")
    complaints_list.set_defaults(run=cmd_complaints_list)
    complaints_show = complaints.add_parser("show", help=_("facts, status history, deadlines"))
    complaints_show.add_argument("number", help=_("the complaint number, e.g. KS-2026-0001"))
    complaints_show.add_argument("--json", action="store_true")
    complaints_show.set_defaults(run=cmd_complaints_show)
    complaints_stats = complaints.add_parser("stats", help=_("monthly statistics as JSON"))
    complaints_stats.add_argument("--month", help=_("YYYY-MM (default: the last complete month)"))
    complaints_stats.set_defaults(run=cmd_complaints_stats)

    sla = sub.add_parser("sla", help=_("complaint deadline rules")).add_subparsers(dest="action", required=True)
    sla_set = sla.add_parser("set", help=_("a company rule, or a customer's own with --customer"))
    sla_set.add_argument("--customer", help=_("customer code (omit for the company rule)"))
    sla_set.add_argument("--milestone", required=True,
                         choices=["register", "first_response", "investigation", "eight_d", "close"],
                         help=_("the deadline the rule sets"))
    sla_set.add_argument("--severity", default="*", choices=["*", "general", "serious", "urgent"],
                         help=_("the severity it applies to (* for every one)"))
    sla_set.add_argument("--amount", type=int, required=True, help=_("how long, in the unit"))
    sla_set.add_argument("--unit", required=True, choices=["hours", "days", "working_days"],
                         help=_("hours, calendar days or working days"))
    sla_set.set_defaults(run=cmd_sla_set)
    sla.add_parser("list", help=_("every rule, as JSON")).set_defaults(run=cmd_sla_list)
