"""The messenger port over Slack's Web API."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.ports import DeliveryError, Posted
from bot.views import Home, Message
from handlers.slack.blockkit import render_home, render_message

# Errors that no retry will mend.
PERMANENT = {"channel_not_found", "not_in_channel", "is_archived", "invalid_blocks", "invalid_arguments",
             "user_not_found", "msg_too_long", "no_text", "cannot_dm_bot", "invalid_auth", "account_inactive",
             "not_authed", "message_not_found", "thread_not_found", "user_not_in_channel"}


def make_client(token: str, base_url: str, retries: int = 2) -> WebClient:
    """A WebClient that honours SLACK_API_URL and retries 429 (Retry-After) and 5xx."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=30,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=retries),
            RateLimitErrorRetryHandler(max_retry_count=retries),
            ServerErrorRetryHandler(max_retry_count=retries),
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
        return self.post(self.open_dm(user), message, thread_ts)

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
