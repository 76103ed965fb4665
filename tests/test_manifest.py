"""The Slack app manifest declares what the bot answers, and the bot answers what it declares."""

from __future__ import annotations

from pathlib import Path

import yaml

from handlers.testing.slack_emulator import SlackSender

MANIFEST = Path(__file__).resolve().parent.parent / "slack" / "manifest.yml"


def load() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_every_declared_command_and_event_is_answered(slack: SlackSender, people: None) -> None:
    manifest = load()
    for command in manifest["features"]["slash_commands"]:
        response = slack.command(command["command"], "help", "U0QE00001")
        assert response.status == 200, command["command"]
        assert response.answer()["blocks"]
    for index, event in enumerate(manifest["settings"]["event_subscriptions"]["bot_events"]):
        payload = ({"type": "message", "channel_type": "im", "user": "U0QE00001", "text": "你好", "channel": "D1"}
                   if event == "message.im" else {"type": event, "user": "U0QE00001", "tab": "home"})
        response = slack.event(payload, event_id=f"EvManifest{index}")
        assert response.status == 200, event


def test_scopes_and_interactivity() -> None:
    manifest = load()
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"chat:write", "commands", "files:write", "im:write", "users:read"} <= scopes
    # the outbox reads back its own messages before resending (conversations.history/replies)
    assert {"channels:history", "groups:history", "im:history"} <= scopes
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
