"""The messenger port over Slack's Web API."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.core.ports import DeliveryError, Posted
from bot.core.views import Home, Message
from handlers.slack.blockkit import render_home, render_message

# Errors that no retry will mend.
PERMANENT = {"channel_not_found", "not_in_channel", "is_archived", "invalid_blocks", "invalid_arguments",
             "user_not_found", "msg_too_long", "no_text", "cannot_dm_bot", "invalid_auth", "account_inactive",
             "not_authed", "message_not_found", "thread_not_found", "user_not_in_channel"}


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


class ServerErrorHandler(RetryHandler):
    """500 and 503 are retried with a short exponential backoff."""

    def __init__(self, max_retry_count: int, sleep: Sleep, base: float = 0.25) -> None:
        super().__init__(max_retry_count)
        self.sleep = sleep
        self.base = base

    def _can_retry(self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        return response is not None and response.status_code in (500, 502, 503, 504)

    def prepare_for_next_attempt(self, *, state: RetryState, request: HttpRequest,
                                 response: HttpResponse | None = None, error: Exception | None = None) -> None:
        state.next_attempt_requested = True
        self.sleep(self.base * 2 ** state.current_attempt)
        state.increment_current_attempt()


def make_client(token: str, base_url: str, retries: int = 2, sleep: Sleep = time.sleep,
                max_retry_wait: float = 5.0, on_rate_limited: Callable[[float], None] | None = None) -> WebClient:
    """A WebClient that honours SLACK_API_URL and retries 429 (Retry-After) and 5xx.
    `sleep` is injected so that tests do not wait."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=30,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=retries),
            RetryAfterHandler(retries, max_retry_wait, sleep, on_rate_limited),
            ServerErrorHandler(retries, sleep),
        ],
    )


def _delivery_error(error: SlackApiError) -> DeliveryError:
    response = error.response
    code = response.get("error") if isinstance(response.data, dict) else None
    if response.status_code == 429:
        retry_after = response.headers.get("Retry-After") or response.headers.get("retry-after") or "1"
        return DeliveryError(f"rate limited: {code}", retry_after=float(retry_after))
    if response.status_code >= 500:
        return DeliveryError(f"server error {response.status_code}")
    return DeliveryError(f"slack error: {code}", permanent=code in PERMANENT)


class SlackMessenger:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.client, method)(**kwargs)
        except SlackApiError as error:
            raise _delivery_error(error) from error
        except OSError as error:  # connection refused, timeouts after the client's own retries
            raise DeliveryError(f"connection error: {error}") from error

    def post(self, channel: str, message: Message, thread_ts: str | None = None) -> Posted:
        text, blocks = render_message(message)
        response = self._call("chat_postMessage", channel=channel, text=text, blocks=blocks or None,
                              thread_ts=thread_ts, unfurl_links=False, unfurl_media=False)
        return Posted(channel=response["channel"], ts=response["ts"])

    def update(self, channel: str, ts: str, message: Message) -> Posted:
        text, blocks = render_message(message)
        response = self._call("chat_update", channel=channel, ts=ts, text=text, blocks=blocks)
        return Posted(channel=response["channel"], ts=response["ts"])

    def open_dm(self, user: str) -> str:
        response = self._call("conversations_open", users=user)
        return str(response["channel"]["id"])

    def direct_message(self, user: str, message: Message, thread_ts: str | None = None) -> Posted:
        """Posting to a user id reaches the bot's DM with them without conversations.open,
        whose rate limit is far lower than chat.postMessage's."""
        return self.post(user, message, thread_ts)

    def post_ephemeral(self, channel: str, user: str, message: Message) -> Posted:
        text, blocks = render_message(message)
        response = self._call("chat_postEphemeral", channel=channel, user=user, text=text, blocks=blocks or None)
        return Posted(channel=channel, ts=response["message_ts"])

    def publish_home(self, user: str, home: Home) -> Posted:
        response = self._call("views_publish", user_id=user, view=render_home(home))
        return Posted(channel=user, ts=response["view"]["id"])

    def upload_image(self, channel: str, png: bytes, filename: str, title: str,
                     thread_ts: str | None = None) -> Posted:
        if channel.startswith(("U", "W")):  # to a person: their direct messages with the bot
            channel = self.open_dm(channel)
        response = self._call("files_upload_v2", channel=channel, content=png, filename=filename, title=title,
                              thread_ts=thread_ts)
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
