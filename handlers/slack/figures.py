"""The monthly data call in Slack: files and lines sent to the bot, and the figures dialog
closed (a draft is kept)."""

from __future__ import annotations

import logging
import urllib.request
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.conversation.home import answer_direct_text, tell_failure
from bot.conversation.uploads import take_uploads
from bot.datacall import use_cases
from handlers.slack.blockkit import form_state, form_values
from handlers.slack.listening import Listening

log = logging.getLogger(__name__)


def download(client: WebClient, shared: dict[str, Any]) -> tuple[str, bytes]:
    """A file someone shared with the bot: its name and bytes (files.info, then the private
    URL with the bot token); no bytes for one too large or that cannot be fetched, so that the
    person hears of it."""
    name = str(shared.get("name") or "file")
    try:
        info = client.files_info(file=str(shared.get("id") or ""))["file"]
        name = str(info.get("name") or name)
        if int(info.get("size") or 0) > use_cases.UPLOAD_BYTES:
            return name, b""
        url = str(info.get("url_private_download") or info.get("url_private") or "")
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {client.token}"})
        with urllib.request.urlopen(request, timeout=20) as answer:  # noqa: S310 - Slack's own file URL
            content = answer.read(use_cases.UPLOAD_BYTES + 1)
    except (SlackApiError, OSError, ValueError) as error:
        log.warning("could not read shared file %s: %s", shared.get("id"), error)
        return name, b""
    return name, content if len(content) <= use_cases.UPLOAD_BYTES else b""


def register(app: App, listening: Listening) -> None:
    ctx = listening.ctx

    def acknowledge(ack: Ack) -> None:
        ack()

    def direct_message(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        """After the ack: a file is read and imported, a line of text gets a pointer to the commands."""
        if event.get("channel_type") != "im" or event.get("bot_id") or not event.get("user") or event.get(
                "subtype") not in (None, "file_share"):
            return
        caller = listening.caller(str(event["user"]))
        files = event.get("files") or []
        try:
            if files:
                uploads = [download(client, shared) for shared in files[:use_cases.UPLOADS_AT_ONCE]]
                key = str(body.get("event_id") or event.get("client_msg_id") or event.get("ts"))
                take_uploads(ctx, caller, uploads, key)
            else:
                answer_direct_text(ctx, caller)
        except Exception:  # the person is told, as after any other request
            log.exception("answering a direct message failed")
            tell_failure(ctx, caller)
        listening.deliver_pending()

    app.event("message")(ack=acknowledge, lazy=[direct_message])

    def closed(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        ack()
        use_cases.keep_draft(ctx, listening.caller(body["user"]["id"]), form_state(view),
                             form_values(view.get("state") or {}))


    app.view_closed("figures.submit")(closed)
