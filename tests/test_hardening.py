"""Requests that are forged, malformed, replayed or crafted: refused with 401 and no outbound
call, acted on once, or answered with a message; never a 500."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import func, select

from bot.core.context import AppContext
from bot.core.settings import Settings
from handlers.testing.slack_emulator import SlackEmulator, SlackSender, sign
from storage.models import Complaint, ComplaintPause, FigureSubmission, OutboxMessage
from tests.test_complaints import submit_log
from tests.test_datacall import LI, at, field_for, open_dialog, state, tick

QE = "U0QE00001"


class Listener:
    """A web server that records whatever is posted to it (a URL a forger would point the bot at)."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                hits.append(self.path)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def stop(self) -> None:
        self.server.shutdown()


def forgeries(secret: str, body: str) -> list[dict[str, str]]:
    """Every way a request can fail verification: malformed, missing, stale, signed with
    another secret, or signed over another body."""
    now = int(time.time())
    return [
        {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": "-5", "X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": "garbage"},
        {"X-Slack-Request-Timestamp": str(now)},
        {"X-Slack-Signature": sign(secret, body)["X-Slack-Signature"]},
        {},
        {"X-Slack-Request-Timestamp": "9" * 40, "X-Slack-Signature": "v0=" + "0" * 64},
        {"X-Slack-Request-Timestamp": "1e9", "X-Slack-Signature": "v0=" + "0" * 64},
        sign(secret, body, now - 6 * 60),  # correctly signed, but replayed after five minutes
        sign(secret, body, now + 6 * 60),  # from the future
        sign("another-workspace-secret", body, now),
        sign(secret, body + "&text=overview", now),  # the body was changed after signing
        {**sign(secret, body, now), "X-Slack-Signature": sign(secret, body, now)["X-Slack-Signature"].upper()},
    ]


def test_malformed_signatures_get_401_and_cause_no_outbound_call(slack: SlackSender, people: None,
                                                                   emulator: SlackEmulator) -> None:
    listener = Listener()
    try:
        bodies = {
            "application/x-www-form-urlencoded": [
                urllib.parse.urlencode({"command": "/csat", "text": "help", "user_id": QE, "team_id": "T0CSATBOT",
                                        "response_url": listener.url, "trigger_id": "1.2.x"}),
                urllib.parse.urlencode({"payload": json.dumps({
                    "type": "block_actions", "response_url": listener.url, "user": {"id": QE},
                    "actions": [{"action_id": "csat.share", "value": "{}", "action_ts": "1.2"}]})}),
            ],
            "application/json": [json.dumps({"type": "event_callback", "event_id": "EvForged", "team_id": "T0CSATBOT",
                                             "event": {"type": "app_home_opened", "user": QE, "tab": "home"}})],
        }
        calls_before = len(emulator.calls)
        tried = 0
        for content_type, variants in bodies.items():
            for body in variants:
                for headers in forgeries(slack.secret, body):
                    reply = slack.send(body, content_type, headers=headers, signed=False)
                    assert reply.status == 401, (body[:40], headers)
                    tried += 1
        assert tried == 39
        assert listener.hits == [] and len(emulator.calls) == calls_before
    finally:
        listener.stop()


def test_answers_go_only_to_slacks_response_urls() -> None:
    settings = Settings(slack_api_url="http://127.0.0.1:4567/api/")
    assert settings.response_url_allowed("https://hooks.slack.com/commands/T1/2/abc")
    assert not settings.response_url_allowed("http://hooks.slack.com/commands/T1/2/abc")
    assert not settings.response_url_allowed("https://hooks.slack.com.evil.example/x")
    assert not settings.response_url_allowed("http://127.0.0.1:8810/slow")
    assert settings.response_url_allowed("http://127.0.0.1:4567/respond/R1")  # the emulator, as configured
    proxied = Settings(slack_response_url_hosts="hooks.slack.com, slack-proxy.corp.example")
    assert proxied.response_url_allowed("https://slack-proxy.corp.example/commands/1")


def test_a_replayed_complaint_submission_logs_one_complaint(slack: SlackSender, ctx: AppContext, people: None,
                                                            emulator: SlackEmulator) -> None:
    first = submit_log(slack, emulator, "U0SM00001", "ACME 车门异响 5件", {})
    assert first["response"].status == 200 and first["response"].body == ""
    view, submitted = first["view"], json.loads(json.dumps(first["view"]))
    state_values = {}
    for block in view["blocks"]:
        if block.get("type") == "input" and block["block_id"] == "customer":
            state_values["customer"] = {"customer": {"type": "external_select", "selected_option": {"value": "ACME"}}}
        elif block.get("type") == "input" and block["block_id"] == "symptom":
            state_values["symptom"] = {"symptom": {"type": "plain_text_input", "value": "车门异响"}}
    for _ in range(2):
        again = slack.view_submission("U0SM00001", submitted, state_values)
        assert again.status == 200 and again.body == ""
    with ctx.session() as session:
        assert session.scalar(select(func.count(Complaint.id))) == 1
        cards = session.scalar(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.idempotency_key.like("complaint:%:card")))
        assert cards == 1


def test_a_replayed_button_press_acts_once(slack: SlackSender, ctx: AppContext, people: None,
                                           emulator: SlackEmulator) -> None:
    submit_log(slack, emulator, "U0SM00001", "ACME 雨刮电机不工作", {})
    with ctx.session() as session:
        number = session.scalars(select(Complaint.number)).one()
    press = {"type": "block_actions", "user": {"id": QE, "team_id": slack.team_id}, "trigger_id": "9.9.x",
             "response_url": slack.response_url("C0QUALITY", QE), "channel": {"id": "C0QUALITY"},
             "container": {"type": "message", "channel_id": "C0QUALITY", "message_ts": "1.1"},
             "actions": [{"type": "button", "action_id": "complaint.pause", "block_id": "b", "value": number,
                          "action_ts": "1791000000.000100"}]}
    for _ in range(3):
        assert slack.interaction(press).status == 200
    with ctx.session() as session:
        assert session.scalar(select(func.count(ComplaintPause.id))) == 1


def test_the_figures_dialog_checks_the_month_it_carries(slack: SlackSender, ctx: AppContext, people: None,
                                                        clock: Any, emulator: SlackEmulator) -> None:
    tick(ctx, clock, at(8))
    view = open_dialog(slack, emulator, LI)
    kpi = field_for(view, "kpi_achievement_rate")
    metadata = json.loads(view["private_metadata"])
    for crafted in ("2030-01", "2026-12", "2026-10", "1999-01", "2026-13", "garbage", ""):
        forged = dict(view, private_metadata=json.dumps(dict(metadata, period=crafted)))
        answer = slack.view_submission(LI, forged, state(view, {kpi: "95"}))
        assert answer.status == 200, crafted
        assert answer.json()["response_action"] == "errors", crafted
    for crafted_state in ("not json", json.dumps([1, 2]), json.dumps(dict(metadata, page="x", customer="y"))):
        answer = slack.view_submission(LI, dict(view, private_metadata=crafted_state), state(view, {kpi: "95"}))
        assert answer.status == 200, crafted_state
    with ctx.session() as session:
        periods = set(session.scalars(select(FigureSubmission.period)))
    assert periods <= {"2026-09"}, periods  # only the month being called for, from the honest state


def test_strangers_get_no_customer_options(slack: SlackSender, people: None) -> None:
    assert slack.options("U0STRANGR", "customer", "").json() == {"options": []}
    assert len(slack.options(QE, "customer", "").json()["options"]) == 2


def test_hostile_values_get_a_message_at_the_field_on_either_database(ctx: AppContext, people: None) -> None:
    from bot.complaints import use_cases as complaints
    from bot.people.callers import identify

    with ctx.session() as session:
        caller = identify(session, "U0QE00001", ctx.locale)
    base = {"customer": "ACME", "symptom": "车门异响\x00"}
    hostile = {"quantity": "2147483648", "batch": "B" * 201, "contact_name": "名" * 201, "received_via": "pigeon",
               "product_model": "x\x00" * 150}
    outcome = complaints.log_complaint(ctx, caller, {**base, **hostile})
    assert set(outcome.errors) == {"quantity", "batch", "contact_name", "received_via"}, outcome.errors
    assert complaints.log_complaint(ctx, caller, {**base, "quantity": "５件"}).accepted  # full-width digits
    with ctx.session() as session:
        complaint = session.scalars(select(Complaint)).one()
        assert complaint.quantity == 5 and "\x00" not in complaint.symptom
        number = complaint.number
    for values in ({"kind": "quality", "quantity": "²"}, {"kind": "quality", "quantity": "①"},
                   {"kind": "quality", "quantity": "99999999999"}):
        returned = complaints.submit_card_action(ctx, caller, {"number": number, "action": "return"}, values, "")
        assert set(returned.errors) == {"quantity"}, values
    closed = complaints.submit_card_action(ctx, caller, {"number": number, "action": "close"},
                                           {"reply": "已处理", "cost": "1e30"}, "")
    assert set(closed.errors) == {"cost"}
    unknown = complaints.submit_card_action(ctx, caller, {"number": number, "action": "explode"}, {}, "")
    assert unknown.problem is not None


def test_a_long_prefill_is_cut_to_its_field_and_the_dialog_says_so(slack: SlackSender, people: None,
                                                                     emulator: SlackEmulator) -> None:
    slack.command("/complaint", "ACME " + "异响" * 5000, "U0SM00001")
    view = emulator.wait_for("views.open")[0].response["view"]
    symptom = next(b for b in view["blocks"] if b.get("block_id") == "symptom")
    assert len(symptom["element"]["initial_value"]) == 3000
    assert "3000" in symptom["hint"]["text"]


def test_figures_are_stored_exactly_as_typed_or_refused(slack: SlackSender, ctx: AppContext, people: None,
                                                        clock: Any, emulator: SlackEmulator) -> None:
    from decimal import Decimal

    from bot.datacall.figures import parse_number

    for typed in ("1_000", "1e-30", "1E3", "nan", "Infinity", "0x10", "1.2.3", "+", "."):
        assert parse_number(typed) is None, typed
    assert parse_number("1,234.50") == Decimal("1234.50") and parse_number("９５％") == Decimal(95)
    tick(ctx, clock, at(8))
    view = open_dialog(slack, emulator, LI)
    kpi = field_for(view, "kpi_achievement_rate")
    for typed in ("12.3456789", "1e-30", "1_000", "95.001"):
        answer = slack.view_submission(LI, view, state(view, {kpi: typed})).json()
        assert answer["response_action"] == "errors" and kpi in answer["errors"], typed
    assert "小数" in slack.view_submission(LI, view, state(view, {kpi: "95.001"})).json()["errors"][kpi]
    assert slack.view_submission(LI, view, state(view, {kpi: "95.25"})).status == 200
    with ctx.session() as session:
        assert list(session.scalars(select(FigureSubmission.value).where(
            FigureSubmission.metric_key == "kpi_achievement_rate"))) == [Decimal("95.25")]


def test_a_percent_sign_on_a_figure_that_is_not_a_percentage_is_refused(ctx: AppContext, people: None,
                                                                        tmp_path: Any) -> None:
    from bot.datacall.figures import import_figures

    sheet = tmp_path / "figures.csv"
    sheet.write_text("metric,month,customer,value\nline_defect_ppm,2026-09,ACME,50%\nkpi_achievement_rate,2026-09,ACME,95%\n",
                     encoding="utf-8")
    with ctx.session() as session:
        result = import_figures(session, sheet, ctx.now())
    assert [e.row for e in result.errors] == [2]
    assert "%" in result.errors[0].message.render(lambda s: s)


def test_stoppages_and_their_minutes_are_checked_together(slack: SlackSender, ctx: AppContext, people: None,
                                                          clock: Any, emulator: SlackEmulator) -> None:
    tick(ctx, clock, at(8))
    view = open_dialog(slack, emulator, LI)
    stops, minutes = field_for(view, "customer_line_stops"), field_for(view, "customer_line_stop_minutes")
    missing = slack.view_submission(LI, view, state(view, {stops: "2"})).json()
    assert missing["response_action"] == "errors" and "分钟" in missing["errors"][minutes]
    zero = slack.view_submission(LI, view, state(view, {stops: "0", minutes: "45"})).json()
    assert zero["response_action"] == "errors" and stops in zero["errors"]
    assert slack.view_submission(LI, view, state(view, {stops: "2", minutes: "45"})).status == 200
    with ctx.session() as session:
        stored = dict(session.execute(select(FigureSubmission.metric_key, FigureSubmission.value)).all())
    assert (stored["customer_line_stops"], stored["customer_line_stop_minutes"]) == (2, 45)


def test_an_import_checks_stoppages_and_minutes_together(ctx: AppContext, people: None, tmp_path: Any) -> None:
    from bot.datacall.figures import import_figures

    sheet = tmp_path / "figures.csv"
    sheet.write_text("metric,month,customer,value\nline_stops,2026-09,,3\ncustomer_line_stops,2026-09,ACME,1\n"
                     "customer_line_stop_minutes,2026-09,ACME,20\n", encoding="utf-8")
    with ctx.session() as session:
        result = import_figures(session, sheet, ctx.now())
    assert [e.row for e in result.errors] == [2]  # three company stoppages, no minutes
