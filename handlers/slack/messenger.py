"""The messenger port over Slack's Web API."""

from __future__ import annotations

import datetime as dt
import hashlib
import http.client
import socket
import time
from collections.abc import Callable
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.core.ports import DeliveryError, Posted
from bot.core.views import Home, Message
from handlers.slack.blockkit import render_home, render_message

# Slack's `ok: false` errors that waiting may mend; every other one (channel_not_found,
# not_in_channel, user_not_found, invalid_blocks, missing_scope, ...) no retry will.
TRANSIENT = {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited",
             "rate_limited", "team_is_restricted_temporarily", "ekm_access_denied"}
# of those, the ones after which Slack may have done part of the work
MAYBE_DONE = {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}
# Calls that change something each time they are made: a blind retry after a 5xx or a broken
# connection could post twice. The outbox retries them after looking for the first copy.
NOT_IDEMPOTENT = {"chat.postMessage", "chat.postEphemeral", "chat.scheduleMessage", "chat.meMessage",
                  "files.completeUploadExternal", "views.open", "views.push"}
METADATA_EVENT = "csatbot_outbox"
LOOKUP_PAGES = 10


Sleep = Callable[[float], None]


def _retry_after(response: HttpResponse | None) -> float | None:
    if response is None:
        return None
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            try:
                return max(0.0, float(values[0]))
            except ValueError:
                return 1.0
    return 1.0


class RetryAfterHandler(RetryHandler):
    """A 429 is retried after exactly Retry-After when that is short; a longer wait goes back
    to the caller (the outbox reschedules the row) instead of holding a thread asleep."""

    def __init__(self, max_retry_count: int, max_wait: float, sleep: Sleep,
                 on_rate_limited: Callable[[float], None] | None = None) -> None:
        super().__init__(max_retry_count)
        self.max_wait = max_wait
        self.sleep = sleep
        self.on_rate_limited = on_rate_limited

    def _can_retry(self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        wait = _retry_after(response) if response is not None and response.status_code == 429 else None
        if wait is not None and self.on_rate_limited is not None:
            self.on_rate_limited(wait)
        return wait is not None and wait <= self.max_wait

    def prepare_for_next_attempt(self, *, state: RetryState, request: HttpRequest,
                                 response: HttpResponse | None = None, error: Exception | None = None) -> None:
        state.next_attempt_requested = True
        self.sleep(_retry_after(response) or 0.0)
        state.increment_current_attempt()


def _method(request: HttpRequest) -> str:
    return request.url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]


def refused(error: BaseException | None) -> bool:
    """The connection was never made, so the request cannot have been handled."""
    reason = error.reason if isinstance(error, URLError) else error
    return isinstance(reason, ConnectionRefusedError | socket.gaierror)


class SafeConnectionRetry(ConnectionErrorRetryHandler):
    """A broken connection is retried, except for a post that may have arrived before it
    broke: that is left to the outbox, which looks for it first."""

    def _can_retry(self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        if _method(request) in NOT_IDEMPOTENT and not refused(error):
            return False
        return super()._can_retry(state=state, request=request, response=response, error=error)


class ServerErrorHandler(RetryHandler):
    """500 and 503 are retried with a short exponential backoff, except for calls that are
    not idempotent (Slack may have stored the message before it failed)."""

    def __init__(self, max_retry_count: int, sleep: Sleep, base: float = 0.25) -> None:
        super().__init__(max_retry_count)
        self.sleep = sleep
        self.base = base

    def _can_retry(self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        return (response is not None and response.status_code in (500, 502, 503, 504)
                and _method(request) not in NOT_IDEMPOTENT)

    def prepare_for_next_attempt(self, *, state: RetryState, request: HttpRequest,
                                 response: HttpResponse | None = None, error: Exception | None = None) -> None:
        state.next_attempt_requested = True
        self.sleep(self.base * 2 ** state.current_attempt)
        state.increment_current_attempt()


def make_client(token: str, base_url: str, retries: int = 2, sleep: Sleep = time.sleep,
                max_retry_wait: float = 5.0, on_rate_limited: Callable[[float], None] | None = None,
                timeout: int = 10) -> WebClient:
    """A WebClient that honours SLACK_API_URL and retries 429 (Retry-After), and 5xx and
    broken connections where that cannot post twice. `sleep` is injected so that tests do
    not wait; the timeout is short, since no Web API call should take seconds."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            SafeConnectionRetry(max_retry_count=retries),
            RetryAfterHandler(retries, max_retry_wait, sleep, on_rate_limited),
            ServerErrorHandler(retries, sleep),
        ],
    )


def _seconds(value: str | None) -> float:
    """Retry-After in seconds (an HTTP date, or nonsense, waits a second)."""
    try:
        return max(0.0, float(value or "1"))
    except ValueError:
        return 1.0


def _delivery_error(error: SlackApiError) -> DeliveryError:
    response = error.response
    code = response.get("error") if isinstance(response.data, dict) else None
    if response.status_code == 429:
        retry_after = response.headers.get("Retry-After") or response.headers.get("retry-after")
        return DeliveryError(f"rate limited: {code}", retry_after=_seconds(retry_after))
    if response.status_code >= 500 or response.status_code == 408:
        return DeliveryError(f"server error {response.status_code}", in_doubt=True)
    if code is None:  # not Slack's answer (a proxy's page): nothing says it is final
        return DeliveryError(f"HTTP {response.status_code} without a Slack error")
    return DeliveryError(f"slack error: {code}", permanent=code not in TRANSIENT, in_doubt=code in MAYBE_DONE)


def _key_mark(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _file_name(key: str, filename: str) -> str:
    """An uploaded file's name carries its outbox key (files take no metadata)."""
    if not key:
        return filename
    stem, _, extension = filename.rpartition(".")
    return f"{stem or filename}-{_key_mark(key)}.{extension or 'png'}"


def _carries(message: dict[str, Any], key: str, mark: str) -> bool:
    """Whether a message is the one queued under `key`: by its metadata, or by an uploaded
    file whose name ends in the key's mark (a chart, a workbook)."""
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") == METADATA_EVENT and (metadata.get("event_payload") or {}).get("key") == key:
        return True
    return any(str(f.get("name") or "").rpartition(".")[0].endswith(f"-{mark}") for f in message.get("files") or [])


class SlackMessenger:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.client, method)(**kwargs)
        except SlackApiError as error:
            raise _delivery_error(error) from error
        except OSError as error:  # connection refused, timeouts after the client's own retries
            raise DeliveryError(f"connection error: {error}", in_doubt=not refused(error)) from error
        except (SlackClientError, http.client.HTTPException, ValueError) as error:  # a cut or garbled answer
            raise DeliveryError(f"unreadable answer: {type(error).__name__}: {error}", in_doubt=True) from error

    def post(self, channel: str, message: Message, thread_ts: str | None = None, key: str = "") -> Posted:
        text, blocks, attachments = render_message(message)
        metadata = {"event_type": METADATA_EVENT, "event_payload": {"key": key}} if key else None
        response = self._call("chat_postMessage", channel=channel, text=text, blocks=blocks or None,
                              attachments=attachments or None, thread_ts=thread_ts, unfurl_links=False,
                              unfurl_media=False, metadata=metadata)
        return Posted(channel=response["channel"], ts=response["ts"])

    def find_sent(self, target: str, key: str, thread_ts: str | None, since: dt.datetime,
                  until: dt.datetime | None = None) -> Posted | None:
        """Look through the conversation (or the thread) between `since` and `until` for the
        message whose metadata carries `key`, or the upload whose name does: a few pages at
        most, and a window too full to search says so rather than guess."""
        channel = self.open_dm(target) if target.startswith(("U", "W")) else target
        oldest = f"{since.timestamp():.6f}"
        latest = f"{until.timestamp():.6f}" if until is not None else None
        mark = _key_mark(key)
        cursor: str | None = None
        for _page in range(LOOKUP_PAGES):
            if thread_ts:
                response = self._call("conversations_replies", channel=channel, ts=thread_ts, oldest=oldest,
                                      latest=latest, include_all_metadata=True, limit=200, cursor=cursor)
            else:
                response = self._call("conversations_history", channel=channel, oldest=oldest, latest=latest,
                                      include_all_metadata=True, limit=200, cursor=cursor)
            for found in response.get("messages") or []:
                if _carries(found, key, mark):
                    return Posted(channel=channel, ts=str(found["ts"]))
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None
        if until is not None:
            raise DeliveryError(f"more than {LOOKUP_PAGES} pages to search for {key}: cannot tell", in_doubt=True)
        return None

    def update(self, channel: str, ts: str, message: Message, key: str = "") -> Posted:
        text, blocks, attachments = render_message(message)
        response = self._call("chat_update", channel=channel, ts=ts, text=text, blocks=blocks,
                              attachments=attachments)
        return Posted(channel=response["channel"], ts=response["ts"])

    def open_dm(self, user: str) -> str:
        response = self._call("conversations_open", users=user)
        return str(response["channel"]["id"])

    def direct_message(self, user: str, message: Message, thread_ts: str | None = None, key: str = "") -> Posted:
        """Posting to a user id reaches the bot's DM with them without conversations.open,
        whose rate limit is far lower than chat.postMessage's."""
        return self.post(user, message, thread_ts, key)

    def post_ephemeral(self, channel: str, user: str, message: Message) -> Posted:
        text, blocks, attachments = render_message(message)
        response = self._call("chat_postEphemeral", channel=channel, user=user, text=text, blocks=blocks or None,
                              attachments=attachments or None)
        return Posted(channel=channel, ts=response["message_ts"])

    def publish_home(self, user: str, home: Home) -> Posted:
        response = self._call("views_publish", user_id=user, view=render_home(home))
        return Posted(channel=user, ts=response["view"]["id"])

    def upload_image(self, channel: str, png: bytes, filename: str, title: str,
                     thread_ts: str | None = None, key: str = "") -> Posted:
        if channel.startswith(("U", "W")):  # to a person: their direct messages with the bot
            channel = self.open_dm(channel)
        response = self._call("files_upload_v2", channel=channel, content=png, filename=_file_name(key, filename),
                              title=title, thread_ts=thread_ts)
        shared = response["files"][0].get("shares", {}) if response.get("files") else {}
        for scope in shared.values():
            for where, posts in scope.items():
                return Posted(channel=where, ts=posts[0]["ts"])
        return Posted(channel=channel, ts=response["files"][0]["id"])

    def user_locale(self, user: str) -> str | None:
        try:
            response = self.client.users_info(user=user, include_locale=True)
        except (SlackApiError, OSError):
            return None
        return response["user"].get("locale")
