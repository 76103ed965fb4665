"""`csatbot demo`: the real bot on one machine with no Slack workspace, and a page that
plays the workspace in a browser.

The page talks to a small JSON API here. Everything a person does on the page becomes a
Slack-shaped, correctly signed request to the bot's real /slack/events; the bot's Web API
calls are answered by the Slack Web API emulator, which keeps the workspace the page shows.
Nothing in the bot knows it is in a demo. A clock control moves the demo's time forward
and runs the scheduled jobs, so reminders, SLA warnings and reports arrive as they would.
"""

from __future__ import annotations

import datetime as dt
import json
import mimetypes
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import select

from bot.complaints.ledger import publish
from bot.core.context import AppContext
from bot.core.defaults import seed_defaults
from bot.core.i18n import pick
from bot.core.settings import Settings
from bot.demo.company import DemoSize, generate
from bot.people.directory import is_empty, list_people
from handlers.bootstrap import bootstrap
from handlers.server import BackgroundServer, make_wsgi
from handlers.slack.app import build_app
from handlers.testing.slack_emulator import SlackEmulator, SlackSender
from scheduled.jobs import run_due
from scheduled.scheduler import build_scheduler
from storage.db import make_engine, make_session_factory, transaction, upgrade_schema
from storage.models import Complaint, Role

STATIC = Path(__file__).parent / "static"
QUALITY_CHANNEL = "C0QUALITY"
GENERAL_CHANNEL = "C0GENERAL"


class OffsetClock:
    """Real time plus an offset the presenter moves forward."""

    def __init__(self) -> None:
        self.offset = dt.timedelta(0)
        self.lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self.lock:
            return dt.datetime.now(dt.UTC) + self.offset

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        with self.lock:
            self.offset += max(delta, dt.timedelta(0))
        return self.now()


class Demo:
    """The bot, the emulator, the scheduler and the page, wired for one machine."""

    def __init__(self, settings: Settings, host: str = "127.0.0.1", port: int = 8000,
                 size: DemoSize | None = None, scheduler: bool = True) -> None:
        if settings.sources.get("database_url", "default") == "default":
            settings = replace(settings, database_url="sqlite:///" + str(Path(settings.data_dir) / "demo.sqlite3"))
        engine = make_engine(settings.database_url)
        upgrade_schema(engine)
        with transaction(make_session_factory(engine)) as session:
            seed_defaults(session)
            fresh = is_empty(session)
            if fresh:
                generate(session, size or DemoSize(), seed=1, now=dt.datetime.now(dt.UTC), tz=settings.tz)
            people = list_people(session)
        engine.dispose()
        self.emulator = SlackEmulator().start()
        for person in people:
            self.emulator.workspace.add_user(person["slack_user_id"], person["name"],
                                             person["locale"] or settings.locale)
        members = [p["slack_user_id"] for p in people]
        self.emulator.workspace.add_channel(QUALITY_CHANNEL, "quality", members)
        self.emulator.workspace.add_channel(GENERAL_CHANNEL, "general", members)
        self.clock = OffsetClock()
        self.secret = secrets.token_hex(16)
        self.settings = replace(settings, slack_api_url=self.emulator.api_url, slack_bot_token="xoxb-demo",
                                slack_signing_secret=self.secret, slack_app_token="",
                                quality_channel=QUALITY_CHANNEL, messages_per_second="50")
        self.ctx: AppContext = bootstrap(self.settings, clock=self.clock)
        self.executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="csatbot-lazy")
        self.bot_wsgi = make_wsgi(self.ctx, build_app(self.ctx, self.executor))
        self.server = BackgroundServer(self.wsgi, host=host, port=port, threads=12)
        self.sender = SlackSender(self.server.url + "/slack/events", self.secret, emulator=self.emulator)
        self.scheduler = build_scheduler(self.ctx) if scheduler else None
        self.jobs_lock = threading.Lock()
        if fresh:  # the demo company's open complaints get their cards in #quality, as if logged here
            with self.ctx.session() as session:
                for complaint in session.scalars(select(Complaint).where(Complaint.status != "closed")
                                                 .order_by(Complaint.received_at)):
                    publish(session, complaint, QUALITY_CHANNEL, self.settings.locale, self.settings.tz,
                            self.clock.now())

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> Demo:
        self.server.start()
        self.sender.url = self.server.url + "/slack/events"
        self.ctx.deliverer.deliver_due(self.clock.now())
        if self.scheduler is not None:
            self.scheduler.start()
        return self

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        self.server.stop()
        self.executor.shutdown(wait=True)
        self.emulator.stop()
        self.ctx.engine.dispose()

    # --- the page's API ------------------------------------------------------------------------------

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path.startswith("/slack/") or path == "/healthz":
            return list(self.bot_wsgi(environ, start_response))
        try:
            if method == "GET" and path in ("/", "/index.html"):
                return self._file(start_response, STATIC / "index.html")
            if method == "GET" and path.startswith("/static/"):
                target = (STATIC / path.removeprefix("/static/")).resolve()
                if STATIC.resolve() in target.parents and target.is_file():
                    return self._file(start_response, target)
                return self._send(start_response, 404, {"error": "not found"})
            if method == "GET" and path.startswith("/api/file/"):
                record = self.emulator.workspace.files.get(path.rsplit("/", 1)[-1])
                if record is None or record.get("content") is None:
                    return self._send(start_response, 404, {"error": "no such file"})
                start_response("200 OK", [("Content-Type", "image/png"), ("Cache-Control", "max-age=3600")])
                return [record["content"]]
            query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
            body: dict[str, Any] = {}
            origin = environ.get("HTTP_ORIGIN")
            if method == "POST" and origin and origin.split("://", 1)[-1].rstrip("/") != environ.get("HTTP_HOST"):
                return self._send(start_response, 403, {"error": "requests from other sites are refused"})
            if method == "POST":
                length = int(environ.get("CONTENT_LENGTH") or 0)
                body = json.loads(environ["wsgi.input"].read(length) or b"{}")
            handler = getattr(self, f"api_{path.removeprefix('/api/').replace('/', '_')}", None)
            if not path.startswith("/api/") or handler is None:
                return self._send(start_response, 404, {"error": "not found"})
            return self._send(start_response, 200, handler(query, body))
        except Exception as error:  # the page shows it rather than hang
            return self._send(start_response, 500, {"error": f"{type(error).__name__}: {error}"})

    def _file(self, start_response: Any, path: Path) -> list[bytes]:
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/javascript",):
            kind += "; charset=utf-8"
        start_response("200 OK", [("Content-Type", kind), ("Cache-Control", "no-cache")])
        return [path.read_bytes()]

    @staticmethod
    def _send(start_response: Any, status: int, data: Any) -> list[bytes]:
        payload = json.dumps(data, ensure_ascii=False, default=str).encode()
        start_response(f"{status} {'OK' if status == 200 else 'Error'}",
                       [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(payload)))])
        return [payload]

    def api_people(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        with self.ctx.session() as session:
            people = list_people(session)
            roles = {r.key: r for r in session.scalars(select(Role))}
        for person in people:
            locale = person["locale"] or self.settings.locale
            person["role_names"] = [pick(locale, roles[k].name_zh, roles[k].name_en) for k in person["roles"]
                                    if k in roles]
        return {"people": people, "bot": SlackEmulator.BOT_USER}

    def api_state(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        user = query.get("user", "")
        ws = self.emulator.workspace
        dm = ws.dm_channel(user) if user else None
        channel = query.get("channel") or QUALITY_CHANNEL
        with ws.lock:
            messages = [dict(m) for m in ws.messages.get(channel, [])]
            ephemeral = [dict(e) for e in ws.ephemeral if e["user"] == user and e["channel"] in (channel, None)]
            stack = list(ws.modals.get(user, []))
            modal = ws.views.get(stack[-1]) if stack else None
            home = ws.homes.get(user)
            names = {u: v["real_name"] for u, v in ws.users.items()}
        top = [m for m in messages if not m.get("thread_ts") or m["thread_ts"] == m["ts"]]
        threads: dict[str, list[dict[str, Any]]] = {}
        for message in messages:
            if message.get("thread_ts") and message["thread_ts"] != message["ts"]:
                threads.setdefault(message["thread_ts"], []).append(message)
        local = self.clock.now().astimezone(self.settings.tz)
        return {
            "now": local.isoformat(timespec="minutes"), "channel": channel,
            "utc_offset_minutes": int((local.utcoffset() or dt.timedelta(0)).total_seconds() // 60),
            "channels": [{"id": QUALITY_CHANNEL, "name": "quality", "kind": "channel"},
                         {"id": GENERAL_CHANNEL, "name": "general", "kind": "channel"},
                         {"id": dm, "name": "csatbot", "kind": "dm"}],
            "messages": top, "threads": threads, "ephemeral": ephemeral, "modal": modal, "home": home,
            "names": names,
        }

    def api_command(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        text = str(body.get("text") or "").strip()
        user, channel = body["user"], body["channel"]
        command, _, rest = text.partition(" ")
        if command not in ("/csat", "/complaint"):
            return {"unknown_command": command}
        name = "directmessage" if channel.startswith("D") else next(
            (c["name"] for c in self.emulator.workspace.channels.values() if c["id"] == channel), channel)
        reply = self.sender.command(command, rest, user, channel_id=channel, channel_name=name)
        answer = reply.json() if reply.body else None
        if isinstance(answer, dict) and (answer.get("text") or answer.get("blocks")):
            self.emulator.workspace.add_ephemeral(channel, user, answer)
        return {"status": reply.status}

    def api_action(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        user = body["user"]
        view = None
        if body.get("source") == "home":
            view = self.emulator.workspace.homes.get(user)
        elif body.get("source") == "modal":
            view = self.emulator.workspace.views.get(body.get("view_id", ""))
        reply = self.sender.block_action(user, body["action_id"], body.get("value", ""),
                                         block_id=body.get("block_id", "b"), channel_id=body.get("channel"),
                                         message_ts=body.get("message_ts"), view=view)
        return {"status": reply.status}

    def api_submit(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        user, view_id = body["user"], body["view_id"]
        ws = self.emulator.workspace
        view = ws.views.get(view_id)
        if view is None:
            return {"error": "the dialog is gone"}
        reply = self.sender.view_submission(user, view, body.get("values") or {})
        answer = reply.json() if reply.body else None
        with ws.lock:
            stack = ws.modals.setdefault(user, [])
            if isinstance(answer, dict) and answer.get("response_action") == "errors":
                return {"errors": answer.get("errors", {})}
            if isinstance(answer, dict) and answer.get("response_action") in ("update", "push"):
                new_id = view_id if answer["response_action"] == "update" else ws.next_id("V")
                ws.views[new_id] = dict(answer["view"], id=new_id, hash=ws.next_id("h"))
                if answer["response_action"] == "push":
                    stack.append(new_id)
                return {"ok": True}
            if isinstance(answer, dict) and answer.get("response_action") == "clear":
                stack.clear()
            elif view_id in stack:
                stack.remove(view_id)
        return {"ok": reply.status == 200, "status": reply.status}

    def api_close(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        user, view_id = body["user"], body["view_id"]
        ws = self.emulator.workspace
        view = ws.views.get(view_id)
        if view is not None and view.get("notify_on_close"):
            self.sender.interaction({"type": "view_closed", "user": {"id": user, "team_id": self.sender.team_id},
                                     "view": dict(view, state={"values": body.get("values") or {}})})
        with ws.lock:
            stack = ws.modals.setdefault(user, [])
            if view_id in stack:
                stack.remove(view_id)
        return {"ok": True}

    def api_options(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        view = self.emulator.workspace.views.get(body.get("view_id", ""))
        reply = self.sender.options(body["user"], body["action_id"], body.get("value", ""), view)
        return reply.json() or {"options": []}

    def api_home(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        reply = self.sender.event({"type": "app_home_opened", "user": body["user"], "tab": "home",
                                   "channel": self.emulator.workspace.dm_channel(body["user"])})
        return {"status": reply.status}

    def next_opening(self) -> dt.datetime:
        """10:00 on the day the next monthly call opens."""
        from bot.calendar.working_days import WorkingCalendar
        from bot.core.periods import current_period
        from bot.core.stored_settings import data_call_settings
        from bot.datacall.call import call_dates

        now = self.clock.now().astimezone(self.settings.tz)
        first_of_next = (now.date().replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        with self.ctx.session() as session:
            calendar, settings = WorkingCalendar.load(session), data_call_settings(session)
            for day in (now.date(), first_of_next):  # this month's opening if it is still ahead
                opening = dt.datetime.combine(call_dates(calendar, current_period(day), settings).opens,
                                              dt.time(10), self.settings.tz)
                if opening > now:
                    return opening
        return opening

    def api_clock(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        """Move the demo's time forward and run what is due then, as the scheduler would."""
        if body.get("to") == "next_opening":
            self.clock.advance(self.next_opening() - self.clock.now())
        elif body.get("to"):
            target = dt.datetime.fromisoformat(str(body["to"]))
            if target.tzinfo is None:
                target = target.replace(tzinfo=self.settings.tz)
            self.clock.advance(target - self.clock.now())
        elif body.get("hours"):
            self.clock.advance(dt.timedelta(hours=float(body["hours"])))
        with self.jobs_lock:
            results = run_due(self.ctx, self.clock.now())
        return {"now": self.clock.now().astimezone(self.settings.tz).isoformat(timespec="minutes"),
                "ran": sorted(results)}
