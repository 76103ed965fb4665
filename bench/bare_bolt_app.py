"""The baseline of the acknowledgement benchmark: a bolt app that only acks, on Flask, as
Slack's own examples serve one. Run by bench/ack_bench.py under gunicorn:

    SLACK_SIGNING_SECRET=… SLACK_API_URL=… gunicorn -k gthread -w 2 --threads 16 bare_bolt_app:flask_app
"""

from __future__ import annotations

import os
import re

from flask import Flask, request
from slack_bolt import Ack, App
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_sdk import WebClient

# bolt checks its token once (auth.test) at the first request: against the same emulator as csatbot
bolt = App(client=WebClient(token="xoxb-bare-bench", base_url=os.environ["SLACK_API_URL"]),
           signing_secret=os.environ["SLACK_SIGNING_SECRET"], token_verification_enabled=False)


@bolt.command(re.compile(".*"))
def command(ack: Ack) -> None:
    ack()


@bolt.action(re.compile(".*"))
def action(ack: Ack) -> None:
    ack()


@bolt.view(re.compile(".*"))
def view(ack: Ack) -> None:
    ack()


flask_app = Flask(__name__)
handler = SlackRequestHandler(bolt)


@flask_app.route("/slack/events", methods=["POST"])
def slack_events() -> object:
    return handler.handle(request)


@flask_app.route("/healthz")
def healthz() -> object:
    return {"status": "ok"}
