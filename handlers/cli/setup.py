"""`csatbot` commands for installing and running: configuration, the schema, the demo company,
jobs, the demo and the server."""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
import threading
from typing import Any

from bot.core.defaults import seed_defaults
from bot.core.i18n import Gettext
from bot.core.outbox import DeliveryReport
from bot.core.periods import is_month
from bot.core.settings import Settings, check, effective
from bot.people import directory
from handlers.bootstrap import (
    RunningBot,
    emulated_workspace,
    prepare_demo_database,
    require_current_schema,
    sandbox_settings,
)
from handlers.cli.common import (
    engine_for,
    err,
    open_context,
    out,
)
from storage.db import make_engine, make_session_factory, schema_state, transaction, upgrade_schema


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


def cmd_demo_data(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.demo.company import DemoSize, generate

    ctx = open_context(settings, _)
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
    ctx = open_context(settings, _, now)
    results = run_due(ctx, ctx.now())
    for name, result in results.items():
        if isinstance(result, DeliveryReport):
            result = _("{sent} sent, {deferred} deferred, {failed} failed, {superseded} superseded").format(
                sent=result.sent, deferred=result.deferred, failed=result.failed, superseded=result.superseded)
        out(f"{name}: {result}")
    return 0


def cmd_demo(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from handlers.demo.server import Demo

    demo = Demo(settings, host=args.host, port=args.port, messenger=args.messenger).start()
    out(_("csatbot demo: open {url} in a browser (Ctrl-C stops it).").format(url=demo.url))
    if args.messenger == "wecom":
        out(_("The WeCom client: {url}/wecom.html (the Slack workspace stays at the address above).").format(
            url=demo.url))
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
    from handlers.server import serve_forever

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
    if not args.socket_mode and args.workers > 1:
        return _serve_workers(settings, _, args)
    ctx = open_context(settings, _)
    if not args.local and not _token_accepted(settings, _):
        return 2
    running = RunningBot(ctx).start()
    signal.signal(signal.SIGTERM, lambda *_a: sys.exit(0))
    try:
        if args.socket_mode:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            out(_("csatbot is connecting to Slack over Socket Mode."))
            SocketModeHandler(running.app, settings.slack_app_token).start()
        else:
            out(_("csatbot is listening on http://{host}:{port}/slack/events (health: /healthz)").format(
                host=args.host, port=args.port))
            serve_forever(running.wsgi, args.host, args.port, threads=args.threads)
    finally:
        running.stop()
    return 0


def _token_accepted(settings: Settings, _: Gettext) -> bool:
    from handlers.slack.app import refused_token

    reason = refused_token(settings.slack_bot_token, settings.api_url)
    if reason is None:
        return True
    err(_("Slack refused SLACK_BOT_TOKEN ({reason}): csatbot does not start. Copy the Bot User OAuth Token "
          "(xoxb-…) from the app's OAuth & Permissions page, or reinstall the app to the workspace.").format(
        reason=reason))
    return False


def _serve_workers(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    """Several worker processes under gunicorn; where it cannot run, one threaded process."""
    from handlers.server import AnswerQueue, prefork_available, serve_prefork

    engine = make_engine(settings.database_url)
    try:
        require_current_schema(engine, _)  # refuse before any worker starts
    finally:
        engine.dispose()  # no connection of this process is inherited by the workers
    if not _token_accepted(settings, _):
        return 2
    if not prefork_available():
        err(_("--workers needs gunicorn on a system that forks processes; serving with one process instead."))
        args.workers = 1
        return cmd_serve(settings, _, args)

    answers = AnswerQueue()  # made before any fork, so that workers and answer processes share it

    def start_worker() -> tuple[Any, Any]:
        running = RunningBot(open_context(settings, _), scheduler=False)
        stop_keeping = answers.runner(running.app, running.ctx)

        def stop() -> None:
            running.stop()  # its server's requests first, then what they handed over is kept
            stop_keeping()
        return running.wsgi, stop

    def until_stopped(scheduler: bool, answer: bool) -> None:
        stopping = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_a: stopping.set())
        running = RunningBot(open_context(settings, _), scheduler=scheduler).start()
        try:
            if answer:
                # the answers are bound to the CPU: a few threads suffice
                answers.answer(running.app, running.ctx, min(args.threads, 4), stopping)
            else:
                while not stopping.wait(1.0):
                    pass
        finally:
            running.stop()

    def run_scheduler() -> None:
        until_stopped(scheduler=True, answer=False)

    def run_answers() -> None:
        until_stopped(scheduler=False, answer=True)

    out(_("csatbot is listening on http://{host}:{port}/slack/events (health: /healthz) with {workers} worker "
          "processes of {threads} threads").format(host=args.host, port=args.port, workers=args.workers,
                                                   threads=args.threads))
    serve_prefork(start_worker, args.host, args.port, args.workers, args.threads,
                  beside=[run_scheduler, *[run_answers] * args.workers])
    return 0


def _local_workspace(settings: Settings, _: Gettext, args: argparse.Namespace) -> Settings:
    """No Slack workspace: the bundled Web API emulator stands in for Slack, with the
    people of the database as its users, and requests are signed with a fresh secret."""
    import secrets

    settings = sandbox_settings(settings, "local.sqlite3")
    _fresh, people = prepare_demo_database(settings)
    out(_("Local mode uses its own database: {url}").format(url=settings.database_url))
    channel = settings.quality_channel or "C0QUALITY"
    emulator, local = emulated_workspace(settings, people, {channel: "quality"}, secrets.token_hex(16),
                                         slack_bot_token="xoxb-local-emulator", quality_channel=channel)
    out(_("Local mode: no Slack workspace is used; the Slack Web API emulator answers instead. Requests to "
          "/slack/events must be signed with this signing secret:"))
    out(f"  SLACK_API_URL={emulator.api_url}")
    out(f"  SLACK_SIGNING_SECRET={local.slack_signing_secret}")
    return local


def add_commands(sub: Any, imports: Any, _: Gettext) -> None:
    config = sub.add_parser("config", help=_("configuration")).add_subparsers(dest="action", required=True)
    config.add_parser("check", help=_("show the effective configuration and what is missing")).set_defaults(
        run=cmd_config_check)

    db = sub.add_parser("db", help=_("database schema")).add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help=_("create or migrate the schema and seed the defaults")).set_defaults(
        run=cmd_db_upgrade)
    db.add_parser("status", help=_("is the schema current?")).set_defaults(run=cmd_db_status)
    demo = sub.add_parser("demo-data", help=_("fill an empty database with a deterministic demo company"))
    demo.add_argument("--seed", type=int, default=1, help=_("the random seed: the same seed, the same company"))
    demo.add_argument("--customers", type=int, default=36, help=_("how many customers"))
    demo.add_argument("--months", type=int, default=24, help=_("how many months of figures"))
    demo.add_argument("--until", help=_("last month of figures, YYYY-MM (default: the last complete month); "
                                      "the same seed and --until give the same company"))
    demo.set_defaults(run=cmd_demo_data)
    jobs = sub.add_parser("jobs", help=_("scheduled jobs")).add_subparsers(dest="action", required=True)
    run_due = jobs.add_parser("run-due", help=_("run every job once as of a moment and deliver the outbox"))
    run_due.add_argument("--now", help=_("ISO-8601 time (default: now); without an offset the company time zone"))
    run_due.set_defaults(run=cmd_jobs_run_due)

    demo = sub.add_parser("demo", help=_("try the whole bot in a browser page that plays Slack (no workspace needed)"))
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--messenger", choices=("slack", "wecom"), default="slack",
                      help=_("wecom: a WeCom app beside the Slack workspace, and a page that plays a WeCom client"))
    demo.set_defaults(run=cmd_demo)

    serve = sub.add_parser("serve", help=_("serve Slack over HTTP (or Socket Mode) and run the scheduler"))
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--socket-mode", action="store_true", help=_("connect with SLACK_APP_TOKEN instead of HTTP"))
    serve.add_argument("--workers", type=int, default=1,
                       help=_("worker processes (default 1; more than one runs under gunicorn, and the database "
                              "elects the one that runs the scheduled jobs)"))
    serve.add_argument("--threads", type=int, default=8, help=_("threads per worker process"))
    serve.add_argument("--local", action="store_true",
                       help=_("no Slack workspace: use the bundled Slack Web API emulator (trying csatbot, smoke "
                              "tests)"))
    serve.set_defaults(run=cmd_serve)
