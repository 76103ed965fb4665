"""A Slack Web API emulator and a client that signs requests the way Slack does.

One emulator serves the test suite and the local demo, so the two cannot drift apart. It
keeps the workspace state (users, channels, messages and threads, views, App Home, files),
records every call, validates every Block Kit payload with slack_sdk.models (a malformed
block is answered `invalid_blocks` and recorded), and answers 429 with Retry-After or 500
on demand, or when a per-second rate limit is set.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    at: float
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)
    stored: dict[str, Any] | None = None  # what a call that failed after storing did


@dataclass
class Failure:
    status: int
    retry_after: int | None
    remaining: int
    after_storing: bool = False  # Slack did the work, then answered with the error


def validate_blocks(blocks: list[dict[str, Any]] | None, limit: int = 50) -> list[str]:
    """Problems slack_sdk.models finds in a list of blocks (empty when valid)."""
    if blocks is None:
        return []
    problems = []
    if len(blocks) > limit:
        problems.append(f"{len(blocks)} blocks; the limit is {limit}")
    for index, raw in enumerate(blocks):
        try:
            block = Block.parse(raw)
            if block is None:
                problems.append(f"block {index}: unknown type {raw.get('type')!r}")
                continue
            block.validate_json()
            if block.to_dict() is None:
                problems.append(f"block {index}: empty")
        except (SlackObjectFormationError, TypeError, KeyError, ValueError) as error:
            problems.append(f"block {index} ({raw.get('type')}): {error}")
    return problems


def validate_message(payload: dict[str, Any]) -> list[str]:
    """A message's blocks and its attachments' blocks, as Slack checks them: a table block
    only in an attachment, and one table per message."""
    blocks = payload.get("blocks")
    attachments = payload.get("attachments")
    if blocks is not None and not isinstance(blocks, list):
        return ["blocks is not a list"]
    problems = validate_blocks(blocks)
    if any(isinstance(b, dict) and b.get("type") == "table" for b in blocks or []):
        problems.append("a table block goes in the message's attachments")
    if attachments is None:
        return problems
    if not isinstance(attachments, list) or not all(isinstance(a, dict) for a in attachments):
        return [*problems, "attachments is not a list of objects"]
    tables = 0
    for number, attachment in enumerate(attachments):
        inner = attachment.get("blocks") or []
        problems += [f"attachment {number}: {p}" for p in validate_blocks(inner)]
        tables += sum(1 for b in inner if isinstance(b, dict) and b.get("type") == "table")
    if tables > 1:
        problems.append("only_one_table_allowed")
    return problems


def shown(message: dict[str, Any]) -> str:
    """Everything a message shows, its blocks and its attachments' blocks (the table), as
    JSON text to search."""
    return json.dumps([message.get("blocks") or [], message.get("attachments") or []], ensure_ascii=False)


def validate_view(view: dict[str, Any]) -> list[str]:
    try:
        View(**view).validate_json()
    except (SlackObjectFormationError, TypeError, KeyError, ValueError) as error:
        return [f"view: {error}"]
    problems = validate_blocks(view.get("blocks"), limit=100)
    if any(isinstance(b, dict) and b.get("type") == "table" for b in view.get("blocks") or []):
        problems.append("a view cannot hold a table block")
    return problems


class Workspace:
    """What the emulator remembers; read it to see what a person would see."""

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self.now = now  # message timestamps follow it (tests pass the injected clock)
        self._last_ts = 0.0
        self.lock = threading.RLock()
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.ephemeral: list[dict[str, Any]] = []
        self.views: dict[str, dict[str, Any]] = {}
        self.homes: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.triggers: dict[str, str] = {}  # trigger_id -> user who acted
        self.modals: dict[str, list[str]] = {}  # user -> stack of open view ids
        self.response_targets: dict[str, tuple[str | None, str]] = {}  # response_url token -> (channel, user)
        self.superseded: set[str] = set()  # response_url tokens whose original was replaced or deleted
        self._ids = itertools.count(1)

    def next_ts(self) -> str:
        """Unique and increasing, at the clock's time (as Slack's `ts` are)."""
        with self.lock:
            self._last_ts = max(round(self.now(), 6), round(self._last_ts + 0.000001, 6))
            return f"{self._last_ts:.6f}"

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def add_user(self, user_id: str, name: str, locale: str = "zh-CN", is_bot: bool = False) -> None:
        with self.lock:
            self.users[user_id] = {"id": user_id, "name": name, "real_name": name, "locale": locale,
                                   "is_bot": is_bot, "tz": "Asia/Shanghai"}

    def add_channel(self, channel_id: str, name: str, members: list[str] | None = None) -> None:
        with self.lock:
            self.channels[channel_id] = {"id": channel_id, "name": name, "is_im": False,
                                         "members": list(members or [])}
            self.messages.setdefault(channel_id, [])

    def dm_channel(self, user_id: str) -> str:
        with self.lock:
            for channel in self.channels.values():
                if channel["is_im"] and channel["user"] == user_id:
                    return str(channel["id"])
            channel_id = "D" + user_id.lstrip("UW")[:10].rjust(8, "0")
            self.channels[channel_id] = {"id": channel_id, "name": user_id, "is_im": True, "user": user_id,
                                         "members": [user_id]}
            self.messages.setdefault(channel_id, [])
            return channel_id

    def add_ephemeral(self, channel: str | None, user: str, payload: dict[str, Any], replace: bool = False,
                      delete: bool = False, token: str | None = None) -> None:
        """An ephemeral reply. `token` names the response URL it came through: replace/delete
        act on the message of that interaction (a command's acknowledgement, or the message whose
        button was pressed), or without one on that person's latest one in the channel."""
        with self.lock:
            mine = [e for e in self.ephemeral if e["channel"] == channel and e["user"] == user]
            if token is not None and (replace or delete):
                self.superseded.add(token)
                mine = [e for e in mine if e.get("token") == token] or mine
            if (replace or delete) and mine:
                self.ephemeral.remove(mine[-1])
            if delete:
                return
            self.ephemeral.append({"channel": channel, "user": user, "ts": self.next_ts(), "token": token,
                                   "text": payload.get("text", ""), "blocks": payload.get("blocks") or [],
                                   "attachments": payload.get("attachments") or []})

    def add_acknowledgement(self, token: str, payload: dict[str, Any]) -> None:
        """What a command's HTTP response showed; it arrives at the client after the replies
        that run after the response may already have replaced it, and then it is not shown."""
        channel, user = self.response_targets.get(token, (None, ""))
        with self.lock:
            if token in self.superseded:
                return
            self.ephemeral.append({"channel": channel, "user": user, "ts": self.next_ts(), "token": token,
                                   "text": payload.get("text", ""), "blocks": payload.get("blocks") or [],
                                   "attachments": payload.get("attachments") or []})

    def history(self, channel: str) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(m) for m in self.messages.get(channel, [])]

    def find_message(self, channel: str, ts: str) -> dict[str, Any] | None:
        for message in self.messages.get(channel, []):
            if message["ts"] == ts:
                return message
        return None


class SlackEmulator:
    """Start with `start()`; point a WebClient at `api_url`."""

    BOT_USER = "UBOT00001"
    TEAM = "T0CSATBOT"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, now: Callable[[], float] = time.time) -> None:
        self.workspace = Workspace(now)
        self.calls: list[Call] = []
        self.invalid: list[tuple[str, list[str]]] = []
        self._failures: dict[str, list[Failure]] = {}
        self.refused_tokens: set[str] = set()  # tokens answered invalid_auth, as a revoked one is
        self._outage: Failure | None = None
        self._rate: dict[str, tuple[float, list[float]]] = {}
        self._lock = threading.Lock()
        self.listeners: list[Callable[[Call], None]] = []
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
                return

            def do_POST(self) -> None:  # noqa: N802 - stdlib signature
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, payload = emulator.handle(self.path, dict(self.headers), body)
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST  # noqa: N815

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.base_url + "/api/"

    def start(self) -> SlackEmulator:
        self.workspace.add_user(self.BOT_USER, "csatbot", is_bot=True)
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="slack-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- control -----------------------------------------------------------------------------------

    def fail_next(self, method: str, status: int = 429, retry_after: int | None = 1, times: int = 1,
                  after_storing: bool = False) -> None:
        """The next `times` calls of `method` (or "*") fail with `status`; `after_storing`:
        the call takes effect (the message is stored) and still answers `status`."""
        with self._lock:
            self._failures.setdefault(method, []).append(Failure(status, retry_after, times, after_storing))

    def outage(self, status: int | None = 503, after_storing: bool = False) -> None:
        """Every Web API call answers `status` until `outage(None)`."""
        with self._lock:
            self._outage = None if status is None else Failure(status, None, 0, after_storing)

    def rate_limit(self, method: str, per_second: float) -> None:
        """Answer 429 (Retry-After: 1) past `per_second` calls of `method` in any second."""
        with self._lock:
            self._rate[method] = (per_second, [])

    def calls_to(self, method: str, ok_only: bool = True) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and (not ok_only or c.status == 200)]

    def wait_for(self, method: str, predicate: Callable[[Call], bool] = lambda c: True, count: int = 1,
                 timeout: float = 5.0) -> list[Call]:
        """Poll the call log until `count` matching successful calls arrived."""
        deadline = time.monotonic() + timeout
        while True:
            matching = [c for c in self.calls_to(method) if c.response.get("ok") and predicate(c)]
            if len(matching) >= count:
                return matching
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected {count} {method} call(s), got {len(matching)}; calls: "
                    f"{[c.method for c in self.calls]}"
                )
            time.sleep(0.01)

    def reset_calls(self) -> None:
        with self._lock:
            self.calls.clear()

    # --- the API -----------------------------------------------------------------------------------

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], Any]:
        parsed = urllib.parse.urlparse(path)
        if parsed.path.startswith("/files/"):
            return self._download(parsed.path.rsplit("/", 1)[-1], headers)
        if parsed.path.startswith("/upload/"):
            return self._upload(parsed.path.rsplit("/", 1)[-1], body)
        if parsed.path.startswith("/respond/"):
            injected = self._injected_failure("response_url")  # an expired or unreachable response URL
            if injected is not None:
                self._record(Call(method="response_url", args={"token": parsed.path.rsplit("/", 1)[-1]},
                                  at=time.monotonic(), status=injected[0], response={"ok": False}))
                return injected[0], injected[1], b"expired_url"
            return self._respond(parsed.path.rsplit("/", 1)[-1], body)
        method = parsed.path.rsplit("/", 1)[-1]
        args = self._parse_args(headers, body, parsed.query)
        call = Call(method=method, args=args, at=time.monotonic())
        injected = self._injected_failure(method)
        if injected is not None and not injected[2]:
            status, extra, _stored = injected
            call.status = status
            call.response = {"ok": False, "error": "ratelimited" if status == 429 else "internal_error"}
            self._record(call)
            return status, extra, call.response
        token = headers.get("Authorization") or headers.get("authorization") or ""
        if method != "api.test" and not token.startswith("Bearer ") and "token" not in args:
            call.response = {"ok": False, "error": "not_authed"}
        elif token.removeprefix("Bearer ") in self.refused_tokens or args.get("token") in self.refused_tokens:
            call.response = {"ok": False, "error": "invalid_auth"}
        else:
            handler = getattr(self, "api_" + method.replace(".", "_"), None)
            if handler is None:
                call.response = {"ok": False, "error": "unknown_method"}
            else:
                try:
                    call.response = handler(args)
                except KeyError as missing:
                    call.response = {"ok": False, "error": "invalid_arguments", "missing": str(missing)}
        if injected is not None:  # it took effect, and the caller is told it failed
            status, extra, _stored = injected
            call.status = status
            call.stored = dict(call.response)
            call.response = {"ok": False, "error": "internal_error"}
            self._record(call)
            return status, extra, call.response
        self._record(call)
        return 200, {}, call.response

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)
        for listener in list(self.listeners):
            listener(call)

    def _parse_args(self, headers: dict[str, str], body: bytes, query: str) -> dict[str, Any]:
        content_type = (headers.get("Content-Type") or headers.get("content-type") or "").lower()
        args: dict[str, Any] = {k: v[-1] for k, v in urllib.parse.parse_qs(query).items()}
        if "json" in content_type and body:
            args.update(json.loads(body.decode("utf-8")))
        elif body:
            args.update({k: v[-1] for k, v in urllib.parse.parse_qs(body.decode("utf-8")).items()})
        for key in ("blocks", "view", "attachments", "files", "metadata"):
            if isinstance(args.get(key), str):
                try:
                    args[key] = json.loads(args[key])
                except json.JSONDecodeError:
                    pass
        return args

    def _injected_failure(self, method: str) -> tuple[int, dict[str, str], bool] | None:
        with self._lock:
            if self._outage is not None:
                return self._outage.status, {}, self._outage.after_storing
            for key in (method, "*"):
                queue = self._failures.get(key)
                if queue:
                    failure = queue[0]
                    failure.remaining -= 1
                    if failure.remaining <= 0:
                        queue.pop(0)
                    extra = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
                    return failure.status, extra, failure.after_storing
            if method in self._rate:
                per_second, stamps = self._rate[method]
                now = time.monotonic()
                stamps[:] = [s for s in stamps if now - s < 1.0]
                if len(stamps) >= per_second:
                    return 429, {"Retry-After": "1"}, False
                stamps.append(now)
        return None

    def _check_blocks(self, method: str, args: dict[str, Any]) -> dict[str, Any] | None:
        problems = validate_message(args)
        if problems:
            with self._lock:
                self.invalid.append((method, problems))
            return {"ok": False, "error": "invalid_blocks", "errors": problems}
        return None

    def _check_view(self, method: str, view: Any) -> dict[str, Any] | None:
        problems = validate_view(view) if isinstance(view, dict) else ["view is not an object"]
        if problems:
            with self._lock:
                self.invalid.append((method, problems))
            return {"ok": False, "error": "invalid_arguments", "errors": problems}
        return None

    # auth, users, conversations

    def api_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "https://csatbot.example/", "team": "csatbot", "user": "csatbot",
                "team_id": self.TEAM, "user_id": self.BOT_USER, "bot_id": "B0CSATBOT", "is_enterprise_install": False}

    def api_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.workspace.users.get(args["user"])
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        data = dict(user)
        if str(args.get("include_locale", "")).lower() not in ("true", "1"):
            data.pop("locale", None)
        return {"ok": True, "user": data}

    def api_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = args.get("users") or args.get("user")
        if isinstance(users, list):
            users = ",".join(users)
        user = str(users).split(",")[0]
        return {"ok": True, "channel": {"id": self.workspace.dm_channel(user)}}

    def _page(self, messages: list[dict[str, Any]], args: dict[str, Any]) -> dict[str, Any]:
        """One page of messages inside `oldest`..`latest`, `limit` at a time with a cursor;
        metadata only when asked for, as Slack does."""
        oldest = float(args.get("oldest") or 0)
        latest = float(args.get("latest") or "inf")
        chosen = [m for m in messages if oldest < float(m["ts"]) <= latest]
        start = int(args.get("cursor") or 0)
        limit = max(1, min(int(args.get("limit") or 100), 999))
        page = chosen[start : start + limit]
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("true", "1")
        shown = [{k: v for k, v in m.items() if k != "metadata" or with_metadata} for m in page]
        more = start + limit < len(chosen)
        return {"ok": True, "messages": shown, "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def _readable(self, channel: str) -> dict[str, Any] | None:
        return None if channel in self.workspace.channels else {"ok": False, "error": "channel_not_found"}

    def api_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        """Top-level messages of a channel, newest first (thread replies are not in it)."""
        channel = args["channel"]
        with self.workspace.lock:
            refused = self._readable(channel)
            if refused:
                return refused
            top = [dict(m) for m in self.workspace.messages[channel] if not m["thread_ts"] or m["thread_ts"] == m["ts"]]
        return self._page(list(reversed(top)), args)

    def api_conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        """A thread: its parent, then the replies oldest first."""
        channel = args["channel"]
        with self.workspace.lock:
            refused = self._readable(channel)
            if refused:
                return refused
            parent = self.workspace.find_message(channel, args["ts"])
            if parent is None:
                return {"ok": False, "error": "thread_not_found"}
            oldest = float(args.get("oldest") or 0)
            thread = [dict(parent)] + [dict(m) for m in self.workspace.messages[channel]
                                       if m["thread_ts"] == args["ts"] and m["ts"] != args["ts"]
                                       and float(m["ts"]) > oldest]
        return self._page(thread, {**args, "oldest": 0})

    # messages

    def _store_message(self, channel: str, args: dict[str, Any], ts: str | None = None,
                       files: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        ws = self.workspace
        with ws.lock:
            if channel.startswith(("U", "W")):
                channel = ws.dm_channel(channel)
            if channel not in ws.channels:
                return {"ok": False, "error": "channel_not_found"}
            message = {"ts": ts or ws.next_ts(), "user": self.BOT_USER, "text": args.get("text", ""),
                       "blocks": args.get("blocks") or [], "attachments": args.get("attachments") or [],
                       "thread_ts": args.get("thread_ts"),
                       "files": files or [], "replies": 0}
            if isinstance(args.get("metadata"), dict):
                message["metadata"] = args["metadata"]
            thread_ts = message["thread_ts"]
            if thread_ts:
                parent = ws.find_message(channel, thread_ts)
                if parent is None:
                    return {"ok": False, "error": "thread_not_found"}
                parent["replies"] += 1
            ws.messages[channel].append(message)
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": dict(message)}

    def api_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:  # noqa: N802 - API name
        if not args.get("text") and not args.get("blocks"):
            return {"ok": False, "error": "no_text"}
        return self._check_blocks("chat.postMessage", args) or self._store_message(args["channel"], args)

    def api_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        invalid = self._check_blocks("chat.update", args)
        if invalid:
            return invalid
        ws = self.workspace
        with ws.lock:
            message = ws.find_message(args["channel"], args["ts"])
            if message is None:
                return {"ok": False, "error": "message_not_found"}
            message["text"] = args.get("text", message["text"])
            if "blocks" in args:
                message["blocks"] = args["blocks"]
            if "attachments" in args or "blocks" in args:
                message["attachments"] = args.get("attachments") or []
            message["edited"] = True
        return {"ok": True, "channel": args["channel"], "ts": args["ts"], "text": message["text"]}

    def api_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:  # noqa: N802 - API name
        invalid = self._check_blocks("chat.postEphemeral", args)
        if invalid:
            return invalid
        ts = self.workspace.next_ts()
        with self.workspace.lock:
            self.workspace.ephemeral.append({"channel": args["channel"], "user": args["user"], "ts": ts,
                                             "text": args.get("text", ""), "blocks": args.get("blocks") or [],
                                             "attachments": args.get("attachments") or []})
        return {"ok": True, "message_ts": ts}

    # views

    def _open_view(self, method: str, args: dict[str, Any], view_id: str | None = None) -> dict[str, Any]:
        view = args["view"]
        invalid = self._check_view(method, view)
        if invalid:
            return invalid
        view_id = view_id or self.workspace.next_id("V")
        stored = dict(view, id=view_id, hash=self.workspace.next_id("h"))
        with self.workspace.lock:
            self.workspace.views[view_id] = stored
        return {"ok": True, "view": stored}

    def api_views_open(self, args: dict[str, Any], push: bool = False) -> dict[str, Any]:
        if not args.get("trigger_id") and not args.get("interactivity_pointer"):
            return {"ok": False, "error": "invalid_trigger_id"}
        result = self._open_view("views.push" if push else "views.open", args)
        user = self.workspace.triggers.get(str(args.get("trigger_id")))
        if result.get("ok") and user:
            with self.workspace.lock:
                stack = self.workspace.modals.setdefault(user, []) if push else []
                stack.append(result["view"]["id"])
                self.workspace.modals[user] = stack
        return result

    def api_views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        return self.api_views_open(args, push=True)

    def api_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = args.get("view_id")
        if view_id and view_id not in self.workspace.views:
            return {"ok": False, "error": "not_found"}
        return self._open_view("views.update", args, view_id)

    def api_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        result = self._open_view("views.publish", args)
        if result.get("ok"):
            with self.workspace.lock:
                self.workspace.homes[args["user_id"]] = result["view"]
        return result

    # files (the three steps of files_upload_v2)

    def api_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:  # noqa: N802 - API name
        file_id = self.workspace.next_id("F")
        with self.workspace.lock:
            self.workspace.files[file_id] = {"id": file_id, "name": args["filename"], "length": int(args["length"]),
                                             "content": None, "title": args.get("filename")}
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _upload(self, file_id: str, body: bytes) -> tuple[int, dict[str, str], Any]:
        with self.workspace.lock:
            record = self.workspace.files.get(file_id)
            if record is None:
                return 404, {}, {"ok": False}
            record["content"] = body
        self._record(Call(method="upload", args={"file_id": file_id, "bytes": len(body)}, at=time.monotonic(),
                          response={"ok": True}))
        return 200, {}, b"OK - " + str(len(body)).encode()

    def _download(self, file_id: str, headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        """A file's private URL: only with a token, as Slack's."""
        token = headers.get("Authorization") or headers.get("authorization") or ""
        record = self.workspace.files.get(file_id)
        if not token.startswith("Bearer ") or token.removeprefix("Bearer ") in self.refused_tokens:
            return 403, {}, b"forbidden"
        if record is None or record.get("content") is None:
            return 404, {}, b"not found"
        self._record(Call(method="download", args={"file_id": file_id}, at=time.monotonic(), response={"ok": True}))
        return 200, {}, bytes(record["content"])

    def share_file(self, user: str, name: str, content: bytes) -> dict[str, Any]:
        """A person drops a file into their direct messages with the bot: the message event
        Slack then sends (deliver it with SlackSender.event)."""
        ws = self.workspace
        file_id = ws.next_id("F")
        with ws.lock:
            ws.files[file_id] = {"id": file_id, "name": name, "length": len(content), "content": content,
                                 "title": name}
            channel = ws.dm_channel(user)
            message = {"ts": ws.next_ts(), "user": user, "text": "", "blocks": [], "attachments": [],
                       "thread_ts": None, "files": [{"id": file_id, "name": name, "title": name}], "replies": 0}
            ws.messages[channel].append(message)
        return {"type": "message", "subtype": "file_share", "channel": channel, "channel_type": "im", "user": user,
                "ts": message["ts"], "text": "", "files": [{"id": file_id, "name": name}]}

    def response_url(self, token: str) -> str:
        return f"{self.base_url}/respond/{token}"

    def _respond(self, token: str, body: bytes) -> tuple[int, dict[str, str], Any]:
        """A reply through an interaction's response_url (what bolt's respond() does)."""
        try:
            payload = json.loads(body.decode("utf-8") or "{}")
        except json.JSONDecodeError:
            return 400, {}, b"invalid_payload"
        problems = validate_message(payload)
        call = Call(method="response_url", args=dict(payload, token=token), at=time.monotonic(),
                    response={"ok": not problems})
        if problems:
            with self._lock:
                self.invalid.append(("response_url", problems))
        else:
            channel, user = self.workspace.response_targets.get(token, (None, ""))
            self.workspace.add_ephemeral(channel, user, payload, replace=bool(payload.get("replace_original")),
                                         delete=bool(payload.get("delete_original")), token=token)
        self._record(call)
        return (400 if problems else 200), {}, b"invalid_blocks" if problems else b"ok"

    def api_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:  # noqa: N802 - API name
        files = args["files"]
        shared = []
        with self.workspace.lock:
            for item in files:
                record = self.workspace.files.get(item["id"])
                if record is None or record["content"] is None:
                    return {"ok": False, "error": "file_not_found"}
                record["title"] = item.get("title") or record["name"]
                shared.append({"id": record["id"], "name": record["name"], "title": record["title"],
                               "url_private": f"{self.base_url}/files/{record['id']}"})
        channel = args.get("channel_id") or args.get("channel")
        if channel:
            posted = self._store_message(channel, {"text": args.get("initial_comment", ""),
                                                   "thread_ts": args.get("thread_ts")}, files=shared)
            if not posted.get("ok"):
                return posted
            for item in shared:
                item["shares"] = {"public": {posted["channel"]: [{"ts": posted["ts"]}]}}
        return {"ok": True, "files": shared}

    def api_files_info(self, args: dict[str, Any]) -> dict[str, Any]:
        record = self.workspace.files.get(args["file"])
        if record is None:
            return {"ok": False, "error": "file_not_found"}
        url = f"{self.base_url}/files/{record['id']}"  # downloaded with the bot token, as Slack's
        return {"ok": True, "file": {**{k: v for k, v in record.items() if k != "content"},
                                     "size": len(record.get("content") or b""), "url_private": url,
                                     "url_private_download": url}}


def eventually(check: Callable[[], None], timeout: float = 5.0) -> None:
    """Retry an assertion until deliveries that run after a response (lazy listeners) land:
    polling with a timeout, for tests and scripts that drive the bot through the emulator."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            check()
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


# --- the other direction: requests from Slack to the bot ----------------------------------------------


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack sends with a request: v0 HMAC-SHA256 over `v0:timestamp:body`."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


@dataclass
class BotResponse:
    status: int
    body: str
    emulator: SlackEmulator | None = None
    token: str | None = None  # the response URL's, for a command or a button

    def json(self) -> Any:
        """The HTTP response itself: for a command, its acknowledgement."""
        return json.loads(self.body) if self.body else None

    def answer(self, timeout: float = 10.0) -> dict[str, Any]:
        """What the person ends up seeing: the first reply through the response URL, which
        replaces the acknowledgement (the bot acks at once and answers after the response)."""
        assert self.emulator is not None and self.token is not None, "answer() needs the emulator"
        calls = self.emulator.wait_for("response_url", lambda c: c.args.get("token") == self.token, timeout=timeout)
        return {k: v for k, v in calls[0].args.items() if k != "token"}


class SlackSender:
    """Sends Slack-shaped, correctly signed requests to a bot's /slack/events."""

    def __init__(self, url: str, signing_secret: str, team_id: str = SlackEmulator.TEAM,
                 emulator: SlackEmulator | None = None, settle: Callable[[], object] | None = None) -> None:
        """`settle`, when given, is called after each response: a test waits there for what
        the bot does after responding (the answer, the deliveries) before its next step."""
        self.url = url
        self.settle = settle
        self.secret = signing_secret
        self.team_id = team_id
        self.emulator = emulator
        self._trigger = itertools.count(1)
        self._event = itertools.count(1)
        self._response = itertools.count(1)

    def response_url(self, channel: str | None = None, user: str = "") -> str:
        """Where bolt's respond() goes: the emulator when there is one, which then knows whose
        ephemeral reply it is."""
        if self.emulator is None:
            return ""
        token = f"R{next(self._response):06d}"
        self.emulator.workspace.response_targets[token] = (channel, user)
        return self.emulator.response_url(token)

    def _answerable(self, response: BotResponse, url: str) -> BotResponse:
        """The response with the token of its response URL; a command's acknowledgement is
        shown in the emulated workspace as Slack shows it (until a reply replaces it)."""
        if self.emulator is None or not url:
            return response
        response.emulator, response.token = self.emulator, url.rsplit("/", 1)[-1]
        return response

    def send(self, body: str, content_type: str, headers: dict[str, str] | None = None,
             signed: bool = True, timestamp: int | None = None) -> BotResponse:
        all_headers = {"Content-Type": content_type}
        if signed:
            all_headers.update(sign(self.secret, body, timestamp))
        all_headers.update(headers or {})
        request = urllib.request.Request(self.url, data=body.encode(), headers=all_headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                answered = BotResponse(response.status, response.read().decode())
        except urllib.error.HTTPError as error:
            answered = BotResponse(error.code, error.read().decode())
        if self.settle is not None:
            self.settle()
        return answered

    def trigger_id(self, user: str = "") -> str:
        trigger = f"{next(self._trigger)}.{int(time.time())}.csatbot"
        if self.emulator is not None and user:
            self.emulator.workspace.triggers[trigger] = user
        return trigger

    def command(self, command: str, text: str, user_id: str, channel_id: str = "C0GENERAL",
                channel_name: str = "general", **extra: Any) -> BotResponse:
        url = self.response_url(channel_id, user_id)
        form = {"token": "unused", "team_id": self.team_id, "team_domain": "csatbot", "channel_id": channel_id,
                "channel_name": channel_name, "user_id": user_id, "user_name": user_id.lower(),
                "command": command, "text": text, "api_app_id": "A0CSATBOT", "is_enterprise_install": "false",
                "response_url": url, "trigger_id": self.trigger_id(user_id)}
        form.update(extra)
        response = self._answerable(self.send(urllib.parse.urlencode(form), "application/x-www-form-urlencoded"), url)
        acknowledgement = response.json() if response.status == 200 and response.body else None
        if response.token is not None and isinstance(acknowledgement, dict) and (
                acknowledgement.get("text") or acknowledgement.get("blocks")):
            self.emulator.workspace.add_acknowledgement(response.token, acknowledgement)  # type: ignore[union-attr]
        return response

    def interaction(self, payload: dict[str, Any]) -> BotResponse:
        payload = {"team": {"id": self.team_id, "domain": "csatbot"}, "api_app_id": "A0CSATBOT", **payload}
        return self.send(urllib.parse.urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")

    def block_action(self, user_id: str, action_id: str, value: str = "", *, block_id: str = "b",
                     channel_id: str | None = None, message_ts: str | None = None,
                     view: dict[str, Any] | None = None) -> BotResponse:
        payload: dict[str, Any] = {
            "type": "block_actions", "user": {"id": user_id, "team_id": self.team_id},
            "trigger_id": self.trigger_id(user_id),
            "actions": [{"type": "button", "action_id": action_id, "block_id": block_id, "value": value,
                         "action_ts": f"{time.time():.6f}"}],
        }
        url = ""
        if view is None:  # App Home and modals have no response_url
            url = payload["response_url"] = self.response_url(channel_id, user_id)
        if channel_id:
            payload["channel"] = {"id": channel_id}
            payload["container"] = {"type": "message", "channel_id": channel_id, "message_ts": message_ts}
            payload["message"] = {"ts": message_ts}
        if view is not None:
            payload["view"] = view
            payload["container"] = {"type": "view", "view_id": view.get("id")}
        return self._answerable(self.interaction(payload), url)

    def options(self, user_id: str, action_id: str, value: str, view: dict[str, Any] | None = None) -> BotResponse:
        """An external select asking for its options (block_suggestion)."""
        payload: dict[str, Any] = {"type": "block_suggestion", "user": {"id": user_id, "team_id": self.team_id},
                                   "action_id": action_id, "block_id": action_id, "value": value}
        if view is not None:
            payload["view"] = view
            payload["container"] = {"type": "view", "view_id": view.get("id")}
        return self.interaction(payload)

    def view_submission(self, user_id: str, view: dict[str, Any], values: dict[str, dict[str, Any]]) -> BotResponse:
        submitted = dict(view, state={"values": values})
        return self.interaction({"type": "view_submission", "user": {"id": user_id, "team_id": self.team_id},
                                 "trigger_id": self.trigger_id(user_id), "view": submitted})

    def event(self, event: dict[str, Any], event_id: str | None = None, retry_num: int | None = None) -> BotResponse:
        envelope = {"token": "unused", "team_id": self.team_id, "api_app_id": "A0CSATBOT", "type": "event_callback",
                    "event_id": event_id or f"Ev{next(self._event):010d}", "event_time": int(time.time()),
                    "event": event, "authorizations": [{"team_id": self.team_id, "user_id": SlackEmulator.BOT_USER,
                                                        "is_bot": True}]}
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return self.send(json.dumps(envelope), "application/json", headers)


def main(argv: list[str] | None = None) -> None:
    """`python -m handlers.testing.slack_emulator`: a local Slack Web API for trying the bot and for smoke tests."""
    import argparse

    parser = argparse.ArgumentParser(description="Slack Web API emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--channel", action="append", default=[], help="ID=name, e.g. C0QUALITY=quality")
    args = parser.parse_args(argv)
    emulator = SlackEmulator(args.host, args.port).start()
    for spec in args.channel:
        channel_id, _, name = spec.partition("=")
        emulator.workspace.add_channel(channel_id, name or channel_id)
    print(emulator.api_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        emulator.stop()


if __name__ == "__main__":
    main()
