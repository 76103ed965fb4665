"""The `csatbot` command line: installation, data, jobs and the server."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from bot.calendar import working_days as working_calendar
from bot.core.clock import FixedClock
from bot.core.context import AppContext
from bot.core.defaults import seed_defaults
from bot.core.i18n import N_, Gettext, gettext_for
from bot.core.outbox import DeliveryReport
from bot.core.periods import is_month
from bot.core.settings import Settings, check, effective
from bot.core.spreadsheets import format_errors
from bot.core.texts import UserError, display_width, pad
from bot.people import directory
from handlers.bootstrap import SchemaOutOfDate, bootstrap, require_current_schema
from storage.db import make_engine, make_session_factory, schema_state, transaction, upgrade_schema

_ENGINES: list[Engine] = []


def engine_for(url: str) -> Engine:
    """An engine that main() disposes of when the command ends."""
    engine = make_engine(url)
    _ENGINES.append(engine)
    return engine


def out(line: str = "") -> None:
    print(line, flush=True)


def err(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def dump_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


# --- commands -----------------------------------------------------------------------------------------


def cmd_config_check(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    out(_("Effective configuration") + (f" ({settings.config_file})" if settings.config_file else ""))
    width = max(len(name) for name, _v, _s in effective(settings))
    for name, value, source in effective(settings):
        out(f"  {name.ljust(width)}  {value or '-'}  [{source}]")
    problems = check(settings)
    try:
        state = schema_state(engine_for(settings.database_url))
        schema = _("current") if state.up_to_date else _("out of date: run `csatbot db upgrade`")
        out(_("Database schema: {state}").format(state=schema))
    except Exception as error:
        out(_("Database: cannot connect ({error})").format(error=type(error).__name__))
        problems_db = True
    else:
        problems_db = not state.up_to_date
    if not problems:
        out(_("No problems found."))
    for problem in problems:
        severity = _("needed to serve") if problem.needed_for else _("recommended")
        out(f"  ✗ {problem.name}: {problem.message.render(_)} ({severity})")
        out("      " + _("Fix: {fix}").format(fix=problem.fix.render(_)))
    return 1 if problems_db or any("serve" in p.needed_for or "any" in p.needed_for for p in problems) else 0


def cmd_db_upgrade(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    engine = engine_for(settings.database_url)
    before = schema_state(engine)
    upgrade_schema(engine)
    with transaction(make_session_factory(engine)) as session:
        added = seed_defaults(session)
    after = schema_state(engine)
    if before.current == after.current:
        out(_("Schema already current ({head}).").format(head=after.head))
    else:
        out(_("Schema upgraded from {old} to {new}.").format(old=before.current or _("empty"), new=after.current))
    seeded = {k: v for k, v in added.items() if v}
    if seeded:
        out(_("Defaults seeded: {counts}").format(counts=", ".join(f"{k}={v}" for k, v in seeded.items())))
    else:
        out(_("Defaults already present; nothing changed."))
    return 0


def cmd_db_status(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    state = schema_state(engine_for(settings.database_url))
    out(_("Schema: database {current}, code {head}").format(current=state.current or _("empty"), head=state.head))
    return 0 if state.up_to_date else 1


def _context(settings: Settings, _: Gettext, now: dt.datetime | None = None) -> AppContext:
    ctx = bootstrap(settings, clock=FixedClock(now) if now else None, engine=engine_for(settings.database_url))
    require_current_schema(ctx.engine, _)
    return ctx


def _run_import(settings: Settings, _: Gettext, run: Callable[[Any, AppContext], Any],
                summary: Callable[[Any], str]) -> int:
    """All or nothing: a bad row rolls the whole file back and is reported by row number."""
    ctx = _context(settings, _)
    with ctx.session() as session:
        result = run(session, ctx)
        if not result.ok:
            session.rollback()
    if not result.ok:
        return _report_row_errors(_, result.errors)
    out(summary(result))
    return 0


def _import(settings: Settings, _: Gettext, path: str, importer: Any, what: str) -> int:
    return _run_import(settings, _, lambda session, ctx: importer(session, Path(path)),
                       lambda r: _("Imported {what}: {created} new, {updated} updated.").format(
                           what=_(what), created=r.created, updated=r.updated))


def cmd_people_import(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    return _import(settings, _, args.file, directory.import_people, N_("people"))


def cmd_customers_import(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    return _import(settings, _, args.file, directory.import_customers, N_("customers"))


def _print_rows(rows: list[dict[str, Any]], columns: list[str]) -> None:
    def cell(value: Any) -> str:
        if value is None:
            return ""
        return ";".join(value) if isinstance(value, list) else str(value)

    table = [[cell(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c)] + [display_width(row[i]) for row in table]) for i, c in enumerate(columns)]
    out("  ".join(pad(c, widths[i]) for i, c in enumerate(columns)).rstrip())
    for row in table:
        out("  ".join(pad(v, widths[i]) for i, v in enumerate(row)).rstrip())


def cmd_people_list(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    with _context(settings, _).session() as session:
        rows = directory.list_people(session)
    if args.json:
        dump_json(rows)
    else:
        _print_rows(rows, ["slack_user_id", "name", "roles", "department", "locale"])
    return 0


def cmd_customers_list(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    with _context(settings, _).session() as session:
        rows = directory.list_customers(session)
    if args.json:
        dump_json(rows)
    else:
        _print_rows(rows, ["code", "name_zh", "name_en", "segment", "owner_name"])
    return 0


def cmd_demo_data(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.demo.company import DemoSize, generate

    ctx = _context(settings, _)
    with ctx.session() as session:
        if not directory.is_empty(session):
            err(_("The database already has people or customers; demo data goes into an empty database only."))
            return 1
        last_month = None
        if args.until:
            if not is_month(args.until):
                err(_("Month {value!r} is not YYYY-MM.").format(value=args.until))
                return 2
            last_month = dt.date(int(args.until[:4]), int(args.until[5:]), 1)
        summary = generate(session, DemoSize(args.customers, args.months), seed=args.seed, now=ctx.now(), tz=ctx.tz,
                           last_month=last_month)
    out(_("Demo company created: {summary}").format(summary=", ".join(f"{k}={v}" for k, v in summary.items())))
    return 0


def cmd_import_events(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.scorecard.events import import_events

    return _run_import(settings, _,
                       lambda session, ctx: import_events(session, Path(args.file), ctx.now(), today=ctx.local_today()),
                       lambda r: _("Imported scorecard events: {created} new, {skipped} already imported.").format(
                           created=r.created, skipped=r.skipped))


def cmd_import_figures(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.datacall.figures import import_figures

    return _run_import(settings, _, lambda session, ctx: import_figures(session, Path(args.file), ctx.now()),
                       lambda r: _("Imported figures: {created} new or changed, {unchanged} unchanged.").format(
                           created=r.created, unchanged=r.unchanged))


def _report_row_errors(_: Gettext, errors: list[Any]) -> int:
    err(_("Nothing was imported; fix these rows and run the import again:"))
    for line in format_errors(errors, _):
        err("  " + line)
    return 1


def cmd_score(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.people.customers import find_customer
    from bot.scorecard.answers import fmt, grade_name
    from bot.scorecard.book import ScoreBook

    if bool(args.month) == bool(args.year):
        err(_("Give either --month YYYY-MM or --year YYYY."))
        return 2
    ctx = _context(settings, _)
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


def cmd_figures_status(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.core.periods import current_period
    from bot.datacall.call import status_message, status_report

    ctx = _context(settings, _)
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


def cmd_deputy_add(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.people.deputies import add_delegation

    ctx = _context(settings, _)
    try:
        start, end = dt.date.fromisoformat(args.start), dt.date.fromisoformat(args.end)
    except ValueError:
        err(_("Dates must be YYYY-MM-DD."))
        return 2
    with ctx.session() as session:
        person = directory.person_by_slack_id(session, args.person)
        if person is None:
            err(_("{value} is not in the people list.").format(value=args.person))
            return 1
        add_delegation(session, person, directory.person_by_slack_id(session, args.deputy), args.role, start, end,
                       None, ctx.now())
    out(_("Deputy recorded."))
    return 0


def cmd_deputy_list(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.people.deputies import list_delegations

    with _context(settings, _).session() as session:
        dump_json(list_delegations(session))
    return 0


def cmd_import_complaints(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.complaints.ledger import import_complaints

    return _run_import(settings, _, lambda session, ctx: import_complaints(session, Path(args.file), ctx.now(), ctx.tz),
                       lambda r: _("Imported complaints: {created}.").format(created=r.created))


def cmd_complaints_list(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.complaints.ledger import complaint_json, list_complaints

    ctx = _context(settings, _)
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

    ctx = _context(settings, _)
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

    ctx = _context(settings, _)
    month = args.month or last_complete_month(ctx.now(), ctx.tz)
    if not is_month(month):
        err(_("Month {value!r} is not YYYY-MM.").format(value=month))
        return 2
    with ctx.session() as session:
        dump_json(monthly_stats(session, month, ctx.tz))
    return 0


def cmd_sla_set(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.complaints.deadlines import set_rule
    from bot.people.customers import find_customer

    ctx = _context(settings, _)
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

    with _context(settings, _).session() as session:
        dump_json(list_rules(session))
    return 0


def cmd_calendar_import(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    ctx = _context(settings, _)
    path = Path(args.file)
    days, errors = working_calendar.parse_calendar_file(path)
    if errors:
        return _report_row_errors(_, errors)
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
    ctx = _context(settings, _)
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
        out(_("⚠ {year} is not known: Monday to Friday is assumed. Load it with `csatbot calendar import FILE`.")
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
    ctx = _context(settings, _)
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


def cmd_jobs_run_due(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from scheduled.jobs import run_due

    now = None
    if args.now:
        try:
            now = dt.datetime.fromisoformat(args.now)
        except ValueError:
            err(_("--now {value!r} is not an ISO-8601 time.").format(value=args.now))
            return 2
        if now.tzinfo is None:
            now = now.replace(tzinfo=settings.tz)
    if not settings.slack_bot_token:
        err(_("SLACK_BOT_TOKEN is not set: jobs would queue messages they cannot deliver. Set it (see "
              "`csatbot config check`) and run again."))
        return 2
    ctx = _context(settings, _, now)
    results = run_due(ctx, ctx.now())
    for name, result in results.items():
        if isinstance(result, DeliveryReport):
            result = _("{sent} sent, {deferred} deferred, {failed} failed").format(
                sent=result.sent, deferred=result.deferred, failed=result.failed)
        out(f"{name}: {result}")
    return 0


def cmd_demo(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from handlers.demo.server import Demo

    demo = Demo(settings, host=args.host, port=args.port).start()
    out(_("csatbot demo: open {url} in a browser (Ctrl-C stops it).").format(url=demo.url))
    out(_("Its own database: {url}").format(url=demo.settings.database_url))
    signal.signal(signal.SIGTERM, lambda *_a: sys.exit(0))
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        demo.stop()
    return 0


def cmd_serve(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from handlers.server import make_wsgi, serve_forever
    from handlers.slack.app import build_app
    from scheduled.scheduler import build_scheduler

    if args.local:
        if args.socket_mode:
            err(_("--local and --socket-mode cannot be combined."))
            return 2
        settings = _local_workspace(settings, _, args)
    mode = "socket" if args.socket_mode else "serve"
    missing = [p for p in check(settings, socket_mode=args.socket_mode)
               if mode in p.needed_for or "any" in p.needed_for]
    if missing:
        err(_("csatbot cannot connect to Slack yet:"))
        for problem in missing:
            err(f"  ✗ {problem.name}: {problem.message.render(_)}")
            err("      " + _("Fix: {fix}").format(fix=problem.fix.render(_)))
        err(_("See the README's Slack setup section. `csatbot config check` shows the whole configuration."))
        err(_("To try csatbot without a Slack workspace: `csatbot serve --local`."))
        return 2
    ctx = _context(settings, _)
    app = build_app(ctx)
    scheduler = build_scheduler(ctx)
    scheduler.start()
    signal.signal(signal.SIGTERM, lambda *_a: sys.exit(0))
    try:
        if args.socket_mode:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            out(_("csatbot is connecting to Slack over Socket Mode."))
            SocketModeHandler(app, settings.slack_app_token).start()
        else:
            out(_("csatbot is listening on http://{host}:{port}/slack/events (health: /healthz)").format(
                host=args.host, port=args.port))
            serve_forever(make_wsgi(ctx, app), args.host, args.port)
    finally:
        scheduler.shutdown(wait=False)
    return 0


def _local_workspace(settings: Settings, _: Gettext, args: argparse.Namespace) -> Settings:
    """No Slack workspace: the bundled Web API emulator stands in for Slack, with the
    people of the database as its users, and requests are signed with a fresh secret."""
    import secrets
    from dataclasses import replace

    from bot.demo.company import DemoSize, generate
    from handlers.testing.slack_emulator import SlackEmulator

    if settings.sources.get("database_url") == "default":
        # a sandbox of its own: what the emulator "delivers" never counts as sent for real
        settings = replace(settings, database_url="sqlite:///" + str(Path(settings.data_dir) / "local.sqlite3"))
    engine = engine_for(settings.database_url)
    upgrade_schema(engine)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        seed_defaults(session)
        if directory.is_empty(session):
            generate(session, DemoSize(), seed=1, now=dt.datetime.now(dt.UTC), tz=settings.tz)
    emulator = SlackEmulator().start()
    with factory() as session:
        for person in directory.list_people(session):
            emulator.workspace.add_user(person["slack_user_id"], person["name"], person["locale"] or settings.locale)
    engine.dispose()
    out(_("Local mode uses its own database: {url}").format(url=settings.database_url))
    channel = settings.quality_channel or "C0QUALITY"
    emulator.workspace.add_channel(channel, "quality")
    local = replace(settings, slack_api_url=emulator.api_url, slack_bot_token="xoxb-local-emulator",
                    slack_signing_secret=secrets.token_hex(16), quality_channel=channel, slack_app_token="")
    out(_("Local mode: no Slack workspace is used; the Slack Web API emulator answers instead. Requests to "
          "/slack/events must be signed with this signing secret:"))
    out(f"  SLACK_API_URL={emulator.api_url}")
    out(f"  SLACK_SIGNING_SECRET={local.slack_signing_secret}")
    return local


# --- parser -------------------------------------------------------------------------------------------


def year_number(text: str) -> int:
    if not text.isdigit() or not 1900 <= int(text) <= 2200:
        raise argparse.ArgumentTypeError(f"{text!r} is not a year between 1900 and 2200")
    return int(text)


def build_parser(_: Gettext) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="csatbot", description=_("Customer-satisfaction bot for Slack."))
    parser.add_argument("--config", help=_("TOML configuration file (default: $CSATBOT_CONFIG or ./csatbot.toml)"))
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    config = sub.add_parser("config", help=_("configuration")).add_subparsers(dest="action", required=True)
    config.add_parser("check", help=_("show the effective configuration and what is missing")).set_defaults(
        run=cmd_config_check)

    db = sub.add_parser("db", help=_("database schema")).add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help=_("create or migrate the schema and seed the defaults")).set_defaults(
        run=cmd_db_upgrade)
    db.add_parser("status", help=_("is the schema current?")).set_defaults(run=cmd_db_status)

    for name, title, importer, lister in (("people", N_("people"), cmd_people_import, cmd_people_list),
                                          ("customers", N_("customers"), cmd_customers_import, cmd_customers_list)):
        group = sub.add_parser(name, help=_(title)).add_subparsers(dest="action", required=True)
        imp = group.add_parser("import", help=_("import from a CSV or XLSX file (all or nothing)"))
        imp.add_argument("file")
        imp.set_defaults(run=importer)
        lst = group.add_parser("list", help=_("list them; --json for scripts"))
        lst.add_argument("--json", action="store_true")
        lst.set_defaults(run=lister)

    imports = sub.add_parser("import", help=_("scorecard events and figures from CSV or XLSX")).add_subparsers(
        dest="action", required=True)
    events = imports.add_parser("events", help=_("columns customer,date,type,count,note (all or nothing)"))
    events.add_argument("file")
    events.set_defaults(run=cmd_import_events)
    figures = imports.add_parser("figures", help=_("columns metric,month,customer,value (all or nothing)"))
    figures.add_argument("file")
    figures.set_defaults(run=cmd_import_figures)

    figures_group = sub.add_parser("figures", help=_("the monthly data call")).add_subparsers(dest="action",
                                                                                          required=True)
    status = figures_group.add_parser("status", help=_("who has handed in a month's figures, who is late"))
    status.add_argument("--month", help=_("YYYY-MM (default: the month being called for)"))
    status.add_argument("--json", action="store_true")
    status.set_defaults(run=cmd_figures_status)

    deputy = sub.add_parser("deputy", help=_("hand a role to a deputy for a period")).add_subparsers(dest="action",
                                                                                                 required=True)
    deputy_add = deputy.add_parser("add", help=_("--person U… --deputy U… --role KEY --from DATE --to DATE"))
    deputy_add.add_argument("--person", required=True)
    deputy_add.add_argument("--deputy", required=True)
    deputy_add.add_argument("--role", required=True)
    deputy_add.add_argument("--from", dest="start", required=True)
    deputy_add.add_argument("--to", dest="end", required=True)
    deputy_add.set_defaults(run=cmd_deputy_add)
    deputy.add_parser("list", help=_("every hand-over, as JSON")).set_defaults(run=cmd_deputy_list)

    import_complaints = imports.add_parser(
        "complaints", help=_("a complaint ledger: customer,received_at,severity,product_model,quantity,batch,symptom,"
                           "contact_name,contact_phone (optional status,closed_at,reply)"))
    import_complaints.add_argument("file")
    import_complaints.set_defaults(run=cmd_import_complaints)

    complaints = sub.add_parser("complaints", help=_("complaints")).add_subparsers(dest="action", required=True)
    complaints_list = complaints.add_parser("list", help=_("complaints, newest first"))
    complaints_list.add_argument("--status", choices=["open", "overdue", "all"], default="all")
    complaints_list.add_argument("--limit", type=int, default=1000)
    complaints_list.add_argument("--json", action="store_true")
    complaints_list.set_defaults(run=cmd_complaints_list)
    complaints_show = complaints.add_parser("show", help=_("facts, status history, deadlines"))
    complaints_show.add_argument("number")
    complaints_show.add_argument("--json", action="store_true")
    complaints_show.set_defaults(run=cmd_complaints_show)
    complaints_stats = complaints.add_parser("stats", help=_("monthly statistics as JSON"))
    complaints_stats.add_argument("--month", help=_("YYYY-MM (default: the last complete month)"))
    complaints_stats.set_defaults(run=cmd_complaints_stats)

    sla = sub.add_parser("sla", help=_("complaint deadline rules")).add_subparsers(dest="action", required=True)
    sla_set = sla.add_parser("set", help=_("a company rule, or a customer's own with --customer"))
    sla_set.add_argument("--customer", help=_("customer code (omit for the company rule)"))
    sla_set.add_argument("--milestone", required=True,
                         choices=["register", "first_response", "investigation", "eight_d", "close"])
    sla_set.add_argument("--severity", default="*", choices=["*", "general", "serious", "urgent"])
    sla_set.add_argument("--amount", type=int, required=True)
    sla_set.add_argument("--unit", required=True, choices=["hours", "days", "working_days"])
    sla_set.set_defaults(run=cmd_sla_set)
    sla.add_parser("list", help=_("every rule, as JSON")).set_defaults(run=cmd_sla_list)

    score = sub.add_parser("score", help=_("a customer's monthly or annual score"))
    score.add_argument("--customer", required=True, help=_("code or name"))
    score.add_argument("--month", help=_("YYYY-MM"))
    score.add_argument("--year", type=year_number, help=_("YYYY"))
    score.add_argument("--json", action="store_true")
    score.set_defaults(run=cmd_score)

    demo = sub.add_parser("demo-data", help=_("fill an empty database with a deterministic demo company"))
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--customers", type=int, default=36)
    demo.add_argument("--months", type=int, default=24)
    demo.add_argument("--until", help=_("last month of figures, YYYY-MM (default: the last complete month); "
                                      "the same seed and --until give the same company"))
    demo.set_defaults(run=cmd_demo_data)

    cal = sub.add_parser("calendar", help=_("the working calendar")).add_subparsers(dest="action", required=True)
    cal_import = cal.add_parser("import", help=_("load an official arrangement: CSV date,kind,note"))
    cal_import.add_argument("file")
    cal_import.add_argument("--year", type=year_number, help=_("the year the file covers (if it lists no day of it)"))
    cal_import.set_defaults(run=cmd_calendar_import)
    cal_show = cal.add_parser("show", help=_("holidays and make-up working days of a year"))
    cal_show.add_argument("year", type=year_number)
    cal_show.add_argument("--json", action="store_true")
    cal_show.set_defaults(run=cmd_calendar_show)
    cal_set = cal.add_parser("set", help=_("a company override for one day"))
    cal_set.add_argument("date")
    cal_set.add_argument("kind", choices=["working", "off", "clear"])
    cal_set.add_argument("--note", default="")
    cal_set.set_defaults(run=cmd_calendar_set)

    jobs = sub.add_parser("jobs", help=_("scheduled jobs")).add_subparsers(dest="action", required=True)
    run_due = jobs.add_parser("run-due", help=_("run every job once as of a moment and deliver the outbox"))
    run_due.add_argument("--now", help=_("ISO-8601 time (default: now); without an offset the company time zone"))
    run_due.set_defaults(run=cmd_jobs_run_due)

    demo = sub.add_parser("demo", help=_("try the whole bot in a browser page that plays Slack (no workspace needed)"))
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.set_defaults(run=cmd_demo)

    serve = sub.add_parser("serve", help=_("serve Slack over HTTP (or Socket Mode) and run the scheduler"))
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--socket-mode", action="store_true", help=_("connect with SLACK_APP_TOKEN instead of HTTP"))
    serve.add_argument("--local", action="store_true",
                       help=_("no Slack workspace: use the bundled Slack Web API emulator (trying csatbot, smoke "
                              "tests)"))
    serve.set_defaults(run=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    # --help is read before any configuration file: its language comes from the environment
    args = build_parser(gettext_for(os.environ.get("CSATBOT_LOCALE"))).parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.load(config_file=args.config)
    except (OSError, ValueError) as error:  # a missing or malformed TOML file
        err(f"csatbot: {args.config or 'csatbot.toml'}: {error}")
        return 2
    fatal = [p for p in check(settings) if "any" in p.needed_for]
    _ = gettext_for(settings.locale if not any(p.name == "CSATBOT_LOCALE" for p in fatal) else "en")
    if fatal and args.run is not cmd_config_check:
        for problem in fatal:
            err(f"✗ {problem.name}: {problem.message.render(_)}. " + _("Fix: {fix}").format(fix=problem.fix.render(_)))
        return 2
    try:
        return int(args.run(settings, _, args) or 0)
    except SchemaOutOfDate as error:
        err(str(error))
        return 1
    except UserError as error:
        err(error.text.render(_))
        return 1
    except BrokenPipeError:  # `csatbot people list | head`
        return 0
    finally:
        while _ENGINES:
            _ENGINES.pop().dispose()


if __name__ == "__main__":
    sys.exit(main())
