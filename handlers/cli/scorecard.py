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


def cmd_import_kpis(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.scorecard.kpis import import_kpis

    if args.valid_from and not is_month(args.valid_from):
        err(_("Month {value!r} is not YYYY-MM.").format(value=args.valid_from))
        return 2
    return run_import(settings, _,
                      lambda session, ctx: import_kpis(session, Path(args.file),
                                                       args.valid_from or ctx.local_today().strftime("%Y-%m"),
                                                       ctx.now(), dry_run=args.dry_run),
                      lambda r: _("KPI register: {created} new or changed, {unchanged} unchanged.").format(
                          created=r.created, unchanged=r.unchanged), dry_run=args.dry_run)


def cmd_kpis_list(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.people.customers import exact_customer_id
    from bot.scorecard.answers import fmt
    from bot.scorecard.kpis import register_listing

    if args.month and not is_month(args.month):
        err(_("Month {value!r} is not YYYY-MM.").format(value=args.month))
        return 2
    ctx = open_context(settings, _)
    with ctx.session() as session:
        customer_id = exact_customer_id(session, args.customer)
        rows = register_listing(session, args.month or ctx.local_today().strftime("%Y-%m"),
                                [customer_id] if customer_id is not None else None)
    if args.json:
        dump_json(rows)
        return 0
    if not rows:
        out(_("No customer has a KPI register: the achievement rate is typed as kpi_achievement_rate."))
        return 0
    for row in rows:
        name = row["name_zh"] if settings.locale == "zh-CN" else row["name_en"]
        sign = "≥" if row["direction"] == "higher" else "≤"
        how = _("computed") if row["computed"] else _("asked in the monthly call")
        out(f"{row['customer']}  kpi.{row['kpi']}  {name}  {sign} {fmt(row['target'], 3)}  "
            + _("from {month}").format(month=row["valid_from"]) + f"  ({how})")
    return 0


def cmd_actions_list(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.actions.listing import action_listing
    from bot.people.customers import exact_customer_id

    ctx = open_context(settings, _)
    with ctx.session() as session:
        customer_id = exact_customer_id(session, args.customer)
        rows = action_listing(session, status=args.status, customer_id=customer_id)
    if args.json:
        dump_json(rows)
        return 0
    if not rows:
        out(_("No corrective action."))
    for row in rows:
        due = _("due {date}").format(date=row["due"]) if row["due"] else ""
        out(f"#{row['id']}  {row['status']}  {row['customer'] or '—'}  {row['owner'] or '—'}  {row['title']}  "
            f"{due}".rstrip())
    return 0


def cmd_actions_show(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.actions.listing import action_detail

    ctx = open_context(settings, _)
    with ctx.session() as session:
        data = action_detail(session, args.id)
    if args.json:
        dump_json(data)
        return 0
    out(f"#{data['id']}  {data['status']}  {data['title']}")
    out("  " + _("Department: {department} · owner: {owner} · due: {due} · loops: {loops}").format(
        department=data["department"] or "—", owner=data["owner"] or "—", due=data["due"] or "—",
        loops=data["loops"]))
    for step in data["steps"]:
        out(f"  {step['at']}  {step['step']}  {step['by'] or '—'}  {step['text'] or ''}".rstrip())
    return 0


def cmd_import_revisits(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.revisits.visits import import_revisits

    return run_import(settings, _,
                      lambda session, ctx: import_revisits(session, Path(args.file), ctx.now(), ctx.local_today()),
                      lambda r: _("Quality revisits: {created} new, {skipped} imported before.").format(
                          created=r.created, skipped=r.skipped))


def cmd_revisits_list(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.people.customers import exact_customer_id
    from bot.revisits.visits import listing

    ctx = open_context(settings, _)
    with ctx.session() as session:
        customer_id = exact_customer_id(session, args.customer)
        rows = listing(session, args.status, customer_id)
    if args.json:
        dump_json(rows)
        return 0
    if not rows:
        out(_("No quality revisit."))
    for row in rows:
        out(f"#{row['id']}  {row['status']}  {row['customer']}  {row['product']}  {row['reason']}  "
            + _("due {date}").format(date=row["due"]))
    return 0


def cmd_score(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.core.i18n import pick
    from bot.people.customers import exact_customer, unknown_customer
    from bot.scorecard.answers import CATEGORY_NAMES, fmt, grade_name
    from bot.scorecard.book import ScoreBook

    if bool(args.month) == bool(args.year):
        err(_("Give either --month YYYY-MM or --year YYYY."))
        return 2
    ctx = open_context(settings, _)
    with ctx.session() as session:
        customer = exact_customer(session, args.customer)
        if customer is None:
            raise unknown_customer(session, args.customer)
        book = ScoreBook(session, ctx.now(), ctx.tz)
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
            out(f"  {_(CATEGORY_NAMES[category])}: {fmt(data[category])}")
        for kpi in data.get("kpis", []):
            met = {True: _("met"), False: _("not met"), None: _("not known yet")}[kpi["met"]]
            out(f"    kpi.{kpi['kpi']}: {fmt(kpi['value'], 3)} ({met})")
        if data.get("provisional"):
            out(_("Provisional: KPI figures still missing ({missing}).").format(missing=", ".join(data["kpi_missing"])))
        for deduction in data["deductions"]:
            rule = rules.events.get(deduction["type"])
            kind = pick(settings.locale, rule.name_zh, rule.name_en) if rule else deduction["type"]
            out(f"  −{fmt(deduction['points'])} {deduction['date']} {kind} ×{deduction['count']} "
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
    kpi_import = imports.add_parser("kpis", help=_("the customer KPI register: columns customer,kpi,name_zh,name_en,"
                                                  "target,direction (all or nothing)"))
    kpi_import.add_argument("file")
    kpi_import.add_argument("--from", dest="valid_from", help=_("YYYY-MM the entries are valid from (default: "
                                                                 "this month)"))
    kpi_import.add_argument("--dry-run", action="store_true", help=_("show what would change, write nothing"))
    kpi_import.set_defaults(run=cmd_import_kpis)
    kpi_group = sub.add_parser("kpis", help=_("the customer KPI register")).add_subparsers(dest="action",
                                                                                          required=True)
    kpi_list = kpi_group.add_parser("list", help=_("the KPIs each customer requires"))
    kpi_list.add_argument("--customer", help=_("code or name"))
    kpi_list.add_argument("--month", help=_("YYYY-MM (default: this month)"))
    kpi_list.add_argument("--json", action="store_true")
    kpi_list.set_defaults(run=cmd_kpis_list)
    revisit_import = imports.add_parser("revisits", help=_("quality revisits owed: columns customer,product,reason "
                                                          "and optional due,note (all or nothing)"))
    revisit_import.add_argument("file")
    revisit_import.set_defaults(run=cmd_import_revisits)
    revisit_group = sub.add_parser("revisits", help=_("after-sales quality revisits")).add_subparsers(
        dest="action", required=True)
    revisit_list = revisit_group.add_parser("list", help=_("revisits, the earliest due first"))
    revisit_list.add_argument("--status", choices=["due", "recorded", "all"], default="due",
                              help=_("which revisits"))
    revisit_list.add_argument("--customer", help=_("code or name"))
    revisit_list.add_argument("--json", action="store_true")
    revisit_list.set_defaults(run=cmd_revisits_list)
    actions = sub.add_parser("actions", help=_("corrective actions")).add_subparsers(dest="action", required=True)
    action_list = actions.add_parser("list", help=_("corrective actions, newest first, with what opened each"))
    action_list.add_argument("--status", choices=["open", "all", "assigned", "analysed", "approved",
                                                  "implemented", "verified", "closed", "rejected"], default="open",
                             help=_("which actions: open ones, all, or one status"))
    action_list.add_argument("--customer", help=_("code or name"))
    action_list.add_argument("--json", action="store_true")
    action_list.set_defaults(run=cmd_actions_list)
    action_show = actions.add_parser("show", help=_("one corrective action with every step"))
    action_show.add_argument("id", type=int, help=_("the action number"))
    action_show.add_argument("--json", action="store_true")
    action_show.set_defaults(run=cmd_actions_show)
    score = sub.add_parser("score", help=_("a customer's monthly or annual score"))
    score.add_argument("--customer", required=True, help=_("code or name"))
    score.add_argument("--month", help=_("YYYY-MM"))
    score.add_argument("--year", type=year_number, help=_("YYYY"))
    score.add_argument("--json", action="store_true")
    score.set_defaults(run=cmd_score)
