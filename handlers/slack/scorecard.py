"""The customer search of Slack's dialogs (an external select asks as the person types)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.core.inputs import clean_text
from bot.people.callers import search_customers
from handlers.slack.blockkit import plain
from handlers.slack.listening import Listening


def register(app: App, listening: Listening) -> None:
    ctx = listening.ctx

    def customer_search(ack: Ack, body: dict[str, Any]) -> None:
        options = search_customers(ctx, listening.caller(body["user"]["id"]), clean_text(str(body.get("value") or "")))
        ack(options=[{"text": plain(o.label, 75), "value": o.value} for o in options])

    app.options("customer")(customer_search)
