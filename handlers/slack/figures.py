"""The monthly data call in Slack: the call's button, the figures dialog's pages and its
closing (a draft is kept)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.datacall import use_cases
from handlers.slack.blockkit import form_state, form_values
from handlers.slack.listening import Listening, choice


def register(app: App, listening: Listening) -> None:
    ctx = listening.ctx

    def closed(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        ack()
        use_cases.keep_draft(ctx, listening.caller(body["user"]["id"]), form_state(view),
                             form_values(view.get("state") or {}))

    app.action("figures.open")(**listening.button(
        lambda request, action: use_cases.open_called_figures(ctx, request.caller, choice(action)),
        dm_key="figures-open"))
    app.view("figures.submit")(listening.submission(
        lambda caller, state, values, dialog: use_cases.submit_figures(ctx, caller, state, values, dialog)))
    app.view_closed("figures.submit")(closed)
    app.view("people.deputy")(listening.submission(
        lambda caller, state, values, dialog: use_cases.submit_deputy(ctx, caller, state, values, dialog)))
