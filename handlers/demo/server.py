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
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from bot.actions.use_cases import publish_new_actions
from bot.complaints.use_cases import publish_open_complaints
from bot.core.context import AppContext
from bot.core.settings import Settings
from bot.datacall.obligations import next_call_opening
from bot.demo.company import DemoSize, give_wecom_ids
from bot.people.directory import list_people
from bot.surveys.invitations import LINK_PATH as SURVEY_PATH
from handlers.bootstrap import RunningBot, bootstrap, emulated_workspace, prepare_demo_database, sandbox_settings
from handlers.demo.wecom import WeComClient
from handlers.server import BackgroundServer
from handlers.testing.slack_emulator import SlackEmulator, SlackSender
from scheduled.jobs import run_due

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


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Demo:
    """The bot, the emulator, the scheduler and the page, wired for one machine."""

    def __init__(self, settings: Settings, host: str = "127.0.0.1", port: int = 8000,
                 size: DemoSize | None = None, scheduler: bool = True, messenger: str = "slack") -> None:
        """`messenger` "wecom": a WeCom app beside the Slack workspace, and a page that plays
        a WeCom client (`/wecom.html`)."""
        settings = sandbox_settings(settings, "demo.sqlite3")
        fresh, people = prepare_demo_database(settings, size)
        self.secret = secrets.token_hex(16)
        self.emulator, self.settings = emulated_workspace(
            settings, people, {QUALITY_CHANNEL: "quality", GENERAL_CHANNEL: "general"}, self.secret,
            slack_bot_token="xoxb-demo", quality_channel=QUALITY_CHANNEL, messages_per_second="50")
        self.clock = OffsetClock()
        self.wecom = WeComClient(self.clock.now) if messenger == "wecom" else None
        if self.wecom is not None:
            self.settings = self.wecom.configure(self.settings)
        self.ctx: AppContext = bootstrap(self.settings, clock=self.clock)
        if self.wecom is not None:
            with self.ctx.session() as session:
                self.wecom.add_members(list(give_wecom_ids(session).values()))
        self.bot = RunningBot(self.ctx, scheduler=scheduler, lazy_workers=4)
        self.host, self.port = host, port
        self.server: BackgroundServer | None = None
        self.sender = SlackSender("", self.secret, emulator=self.emulator)
        self.jobs_lock = threading.Lock()
        if fresh:  # the demo company's open complaints get their cards in #quality, as if logged here
            publish_open_complaints(self.ctx)
            publish_new_actions(self.ctx)

    @property
    def url(self) -> str:
        assert self.server is not None, "start() the demo first"
        return self.server.url

    def start(self) -> Demo:
        self.server = self.bot.serve_in_background(self.wsgi, host=self.host, port=self.port, threads=12)
        self.sender.url = self.server.url + "/slack/events"
        self.ctx.settings.public_url = self.server.url  # the survey links open the questionnaire on this page's server
        if self.wecom is not None:
            self.wecom.start(self.server.url, self.ctx.messenger.wecom, self.settings.locale)
        self.ctx.deliverer.deliver_due(self.clock.now())
        self.bot.start()
        return self

    def stop(self) -> None:
        self.bot.stop()
        self.emulator.stop()
        if self.wecom is not None:
            self.wecom.stop()
        self.ctx.engine.dispose()

    # --- the page's API ------------------------------------------------------------------------------

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path.startswith(("/slack/", SURVEY_PATH, "/wecom/")) or path == "/healthz":
            return list(self.bot.wsgi(environ, start_response))
        try:
            if method == "GET" and path in ("/", "/index.html"):
                return self._file(start_response, STATIC / "index.html")
            if method == "GET" and path in ("/wecom", "/wecom.html") and self.wecom is not None:
                return self._file(start_response, STATIC / "wecom.html")
            if method == "GET" and path.startswith("/api/wecom/media/") and self.wecom is not None:
                found = self.wecom.media(path.rsplit("/", 1)[-1])
                if found is None:
                    return self._send(start_response, 404, {"error": "no such file"})
                name, content = found
                kind = "image/png" if name.lower().endswith(".png") else (
                    XLSX if name.lower().endswith(".xlsx") else "application/octet-stream")
                start_response("200 OK", [("Content-Type", kind), ("Content-Disposition",
                                                                   f"inline; filename*=UTF-8''{quote(name)}")])
                return [content]
            if method == "GET" and path == "/favicon.ico":  # browsers ask for it whatever the page says
                return self._file(start_response, STATIC / "favicon.svg")
            if method == "GET" and path.startswith("/static/"):
                target = (STATIC / path.removeprefix("/static/")).resolve()
                if STATIC.resolve() in target.parents and target.is_file():
                    return self._file(start_response, target)
                return self._send(start_response, 404, {"error": "not found"})
            if method == "GET" and path.startswith("/api/file/"):
                record = self.emulator.workspace.files.get(path.rsplit("/", 1)[-1])
                if record is None or record.get("content") is None:
                    return self._send(start_response, 404, {"error": "no such file"})
                name = str(record.get("name") or "")
                if not name.lower().endswith(".png"):  # a form or a report: downloaded under its name
                    kind = XLSX if name.lower().endswith(".xlsx") else (mimetypes.guess_type(name)[0]
                                                                        or "application/octet-stream")
                    start_response("200 OK", [("Content-Type", kind), ("Content-Disposition",
                                                                       f"attachment; filename*=UTF-8''{quote(name)}")])
                else:
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
            people = list_people(session, with_role_names_in=self.settings.locale)
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
        return {"status": reply.status}  # the sender shows the acknowledgement, as Slack does

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

    # --- the WeCom client (`--messenger wecom`) ---------------------------------------------------------

    def _client(self) -> WeComClient:
        if self.wecom is None:
            raise LookupError("the demo runs without WeCom: start it with --messenger wecom")
        return self.wecom

    def api_wecom_state(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        return {"now": self._local_now(), **self._client().conversation(query.get("user", ""))}

    def api_wecom_text(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        return {"status": self._client().text(str(body["user"]), str(body.get("text") or ""))}

    def api_wecom_click(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        return {"status": self._client().click(str(body["user"]), str(body.get("key") or ""))}

    def api_wecom_enter(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        return {"status": self._client().enter(str(body["user"]))}

    def api_wecom_signin(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        self._client().sign_in(str(body["user"]))
        return {"ok": True}

    def next_opening(self) -> dt.datetime:
        """10:00 on the day the next monthly call opens."""
        with self.ctx.session() as session:
            return next_call_opening(session, self.clock.now().astimezone(self.settings.tz), dt.time(10))

    def api_clock(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        """Move the demo's time forward and run what is due then, as the scheduler would."""
        if body.get("to") == "next_opening":
            self.clock.advance(self.next_opening() - self.clock.now())
        elif body.get("to"):
            try:
                target = dt.datetime.fromisoformat(str(body["to"]))
            except ValueError:
                return {"now": self._local_now(), "ran": [], "refused": "unreadable"}
            if target.tzinfo is None:
                target = target.replace(tzinfo=self.settings.tz)
            if target <= self.clock.now():
                # what was due up to now has been sent; going back would send it again
                return {"now": self._local_now(), "ran": [], "refused": "past"}
            self.clock.advance(target - self.clock.now())
        elif body.get("hours"):
            self.clock.advance(dt.timedelta(hours=float(body["hours"])))
        with self.jobs_lock:
            results = run_due(self.ctx, self.clock.now())
        return {"now": self._local_now(), "ran": sorted(results)}

    def _local_now(self) -> str:
        return self.clock.now().astimezone(self.settings.tz).isoformat(timespec="minutes")
