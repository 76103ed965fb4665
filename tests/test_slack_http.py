"""The real bolt App over HTTP: signatures, /csat help in both languages, strangers,
Events API retries, App Home, health, and Socket Mode dispatch."""

from __future__ import annotations

import json
import logging
import time
import urllib.request

from slack_sdk.socket_mode.request import SocketModeRequest

from bot.core.context import AppContext
from handlers.slack.app import build_app
from handlers.testing.slack_emulator import SlackEmulator, SlackSender, shown, sign, validate_blocks


def blocks_text(message: dict) -> str:  # type: ignore[type-arg]
    return shown(message)


def test_forged_missing_and_stale_signatures_get_401(slack: SlackSender) -> None:
    body = "command=%2Fcsat&text=help&user_id=U0QE00001&team_id=T0CSATBOT"
    forged = sign("0" * 32, body)
    assert slack.send(body, "application/x-www-form-urlencoded", headers=forged, signed=False).status == 401
    assert slack.send(body, "application/x-www-form-urlencoded", signed=False).status == 401
    stale = int(time.time()) - 6 * 60
    assert slack.send(body, "application/x-www-form-urlencoded", timestamp=stale).status == 401
    tampered = sign(slack.secret, body)
    assert slack.send(body + "&x=1", "application/x-www-form-urlencoded", headers=tampered,
                      signed=False).status == 401


def test_help_in_chinese_and_english(slack: SlackSender, people: None) -> None:
    zh = slack.command("/csat", "help", "U0QE00001")
    assert zh.status == 200
    assert zh.json()["response_type"] == "ephemeral" and "/csat help" in zh.json()["text"]  # acknowledged at once
    answer = zh.answer()
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is True
    assert validate_blocks(answer["blocks"]) == []
    assert "/csat help" in blocks_text(answer)
    assert "命令" in blocks_text(answer)
    en = slack.command("/csat", "", "U0QE00002").answer()
    assert "commands" in en["text"] and "命令" not in blocks_text(en)


def test_unknown_subcommand_gets_help_with_a_notice(slack: SlackSender, people: None) -> None:
    answer = slack.command("/csat", "frobnicate <!channel>", "U0QE00002").answer()
    text = blocks_text(answer)
    assert "Unknown command" in text
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text


def test_stranger_gets_polite_refusal_in_their_language(slack: SlackSender, people: None,
                                                        emulator: SlackEmulator) -> None:
    en = slack.command("/csat", "help", "U0STRANGR").answer()
    assert "does not know you" in en["text"]
    assert "王静" in blocks_text(en)  # who can add them
    zh = slack.command("/csat", "help", "U0STRANZH").answer()
    assert "认识" in zh["text"] or "还不" in zh["text"]
    assert emulator.calls_to("users.info")


def test_events_api_retry_is_handled_once(slack: SlackSender, people: None, emulator: SlackEmulator) -> None:
    event = {"type": "app_home_opened", "user": "U0QE00002", "channel": "D0001", "tab": "home",
             "event_ts": "1.1"}
    assert slack.event(event, event_id="Ev0HOME0001").status == 200
    assert slack.event(event, event_id="Ev0HOME0001", retry_num=1).status == 200
    assert slack.event(event, event_id="Ev0HOME0001", retry_num=2).status == 200
    publishes = emulator.wait_for("views.publish")
    assert len(emulator.calls_to("views.publish")) == 1
    assert publishes[0].args["user_id"] == "U0QE00002"
    assert "Hello, Anna Schmidt." in json.dumps(emulator.workspace.homes["U0QE00002"])
    # a new opening is a new event: published again
    assert slack.event(event, event_id="Ev0HOME0002").status == 200
    emulator.wait_for("views.publish", count=2)


def test_healthz_reports_database_and_schema(bot_server) -> None:  # type: ignore[no-untyped-def]
    with urllib.request.urlopen(bot_server.url + "/healthz", timeout=10) as response:
        report = json.loads(response.read())
    assert response.status == 200
    assert report["status"] == "ok" and report["schema"]["state"] == "current"


def test_concurrent_requests_do_not_wait_for_each_other(slack: SlackSender, people: None) -> None:
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: slack.command("/csat", "help", "U0QE00001").status, range(8)))
    assert results == [200] * 8


def test_socket_mode_requests_reach_the_same_listeners(ctx: AppContext, people: None) -> None:
    from slack_bolt.adapter.socket_mode.builtin import SocketModeHandler

    app = build_app(ctx)
    handler = SocketModeHandler(app, app_token="xapp-1-test", trace_enabled=False)
    sent: list[dict] = []  # type: ignore[type-arg]

    class FakeSocketClient:
        logger = logging.getLogger("socket-mode-test")

        def send_socket_mode_response(self, response) -> None:  # type: ignore[no-untyped-def]
            sent.append(response.to_dict() if hasattr(response, "to_dict") else dict(response))

    payload = {"command": "/csat", "text": "help", "user_id": "U0QE00002", "team_id": "T0CSATBOT",
               "channel_id": "C0GENERAL", "trigger_id": "1.2.3"}
    request = SocketModeRequest(type="slash_commands", envelope_id="env-1", payload=payload)
    handler.handle(FakeSocketClient(), request)  # type: ignore[arg-type]
    assert sent and sent[0]["envelope_id"] == "env-1"
    assert "/csat help" in json.dumps(sent[0]["payload"])
