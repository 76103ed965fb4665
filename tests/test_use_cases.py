"""The use cases called directly, as a second messenger would call them: who may do what,
where answers and charts go, bad input and forged state answered without a crash; the
outbox's query API; messenger identities and their migration."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot.complaints import use_cases as complaints
from bot.conversation import commands
from bot.core import outbox
from bot.core.context import AppContext
from bot.core.replies import Request
from bot.core.texts import UserError, render_error
from bot.core.views import Message
from bot.datacall import use_cases as datacall
from bot.people.callers import identify
from bot.people.identities import person_by_identity
from bot.scorecard import use_cases as scorecard
from storage.db import alembic_config, make_engine, make_session_factory, transaction
from storage.models import Complaint, OutboxMessage, Person, PersonIdentity

QUALITY, SALES, FINANCE, STRANGER = "U0QE00001", "U0SM00001", "U0FI00001", "U0STRANGR"


def request(ctx: AppContext, user: str, key: str = "req-1", place: str | None = "C0QUALITY",
            direct: bool = False) -> Request:
    with ctx.session() as session:
        caller = identify(session, user, ctx.locale)
    caller.locale = caller.locale or ctx.locale
    return Request(caller, key, place, direct)


def rows(ctx: AppContext) -> dict[str, OutboxMessage]:
    with ctx.session() as session:
        return {row.idempotency_key: row for row in session.scalars(select(OutboxMessage))}


def shown(error: UserError, locale: str = "en") -> str:
    return render_error(error, locale).text


def test_the_router_refuses_strangers_and_roles_without_permission(ctx: AppContext, people: None) -> None:
    with pytest.raises(UserError) as refused:
        commands.csat(ctx, request(ctx, STRANGER), "customer ACME")
    assert refused.value.message is not None and refused.value.message.cards  # the refusal card
    help_reply = commands.csat(ctx, request(ctx, QUALITY), "帮助")
    assert help_reply.message is not None and "/csat customer" in str(help_reply.message.cards[0].parts)
    unknown = commands.csat(ctx, request(ctx, QUALITY), "frobnicate")
    assert unknown.message is not None and "frobnicate" in unknown.message.text
    with pytest.raises(UserError) as forbidden:
        commands.csat(ctx, request(ctx, FINANCE), "event ACME")
    assert "/csat event" in shown(forbidden.value, "zh-CN")
    assert rows(ctx) == {}  # nothing queued for any of them


def test_an_answer_in_a_channel_sends_its_chart_to_the_askers_dms(scored: AppContext) -> None:
    ctx = scored
    reply = scorecard.answer_customer(ctx, request(ctx, QUALITY, "trigger-7"), ["ACME", "2026-09"])
    assert reply.message is not None and reply.form is None
    notes = [getattr(p, "text", "") for p in reply.message.cards[-1].parts]
    assert any("📈" in n for n in notes)
    chart = rows(ctx)[f"chart:{QUALITY}:trigger-7"]
    assert chart.kind == "image" and chart.target == QUALITY
    in_dm = scorecard.answer_customer(ctx, request(ctx, QUALITY, "trigger-8", place="D0DM", direct=True),
                                      ["ACME", "2026-09"])
    assert in_dm.message is not None
    said = [getattr(p, "text", "") for p in in_dm.message.cards[-1].parts if "📈" in getattr(p, "text", "")]
    assert len(said) == 1 and "紧随本消息" in said[0] and "私信" not in said[0]  # the chart follows, here
    assert rows(ctx)[f"chart:{QUALITY}:trigger-8"].target == "D0DM"


def test_cost_figures_are_never_shared_to_a_channel(scored: AppContext) -> None:
    ctx = scored
    with pytest.raises(UserError) as refused:
        scorecard.share_answer(ctx, request(ctx, FINANCE), {"kind": "metric", "key": "claim_cost", "year": 2026})
    assert "Cost figures" in shown(refused.value)
    assert not any(key.startswith("share:") for key in rows(ctx))


def test_logging_a_complaint_without_slack(ctx: AppContext, people: None) -> None:
    caller = request(ctx, SALES).caller
    bad = complaints.log_complaint(ctx, caller, {"customer": "NOPE", "symptom": ""})
    assert set(bad.errors) == {"customer", "symptom"} and not bad.accepted
    good = complaints.log_complaint(ctx, caller, {"customer": "ACME", "symptom": "车门异响", "quantity": "5件"})
    assert good.accepted
    with ctx.session() as session:
        complaint = session.scalar(select(Complaint))
        assert complaint is not None and complaint.quantity == 5
        number = complaint.number
    queued = rows(ctx)
    assert queued[f"complaint:{number}:card"].target == "C0QUALITY"
    assert queued[f"complaint:{number}:logged"].target == SALES
    stranger = complaints.log_complaint(ctx, request(ctx, STRANGER).caller, {"customer": "ACME", "symptom": "x"})
    assert set(stranger.errors) == {"customer"}


def test_card_buttons_are_decided_in_bot(ctx: AppContext, people: None) -> None:
    caller = request(ctx, SALES).caller
    assert complaints.log_complaint(ctx, caller, {"customer": "ACME", "symptom": "雨刮电机不工作"}).accepted
    with ctx.session() as session:
        number = session.scalars(select(Complaint.number)).one()
    opened = complaints.press_card_button(ctx, request(ctx, QUALITY, "ts-1"), "close", number)
    assert opened.form is not None and opened.form.kind == "complaint.action"
    assert opened.form.state == {"number": number, "action": "close"}
    with pytest.raises(UserError):
        complaints.press_card_button(ctx, request(ctx, QUALITY, "ts-2"), "explode", number)
    paused = complaints.press_card_button(ctx, request(ctx, QUALITY, "ts-3"), "pause", number)
    assert paused.form is None and f"complaint:{number}:pause:ts-3" in rows(ctx)
    forged = complaints.submit_card_action(ctx, request(ctx, QUALITY).caller, {"number": number}, {}, "V1")
    assert forged.problem is not None and not forged.accepted
    missing = complaints.submit_card_action(ctx, request(ctx, QUALITY).caller,
                                            {"number": "KS-1999-9999", "action": "close"}, {"reply": "ok"}, "V2")
    assert missing.problem is not None
    with pytest.raises(UserError) as garbage:
        complaints.decide_return(ctx, request(ctx, QUALITY), "garbage", approve=True)
    assert "No such return" in shown(garbage.value)


def test_figures_dialog_state_that_this_bot_did_not_write(ctx: AppContext, people: None) -> None:
    caller = request(ctx, SALES).caller
    submitted = datacall.submit_figures(ctx, caller, {"period": "garbage"}, {}, "V9")
    assert submitted.problem is not None and not submitted.accepted
    datacall.keep_draft(ctx, caller, {}, {"x": "1"})  # no period: nothing to keep, no error
    opened = datacall.open_figures(ctx, caller, "2026-09")
    assert opened.form is not None and opened.form.state["period"] == "2026-09"
    not_over = datacall.open_figures(ctx, caller, "2026-10")
    assert not_over.form is None and not_over.message is not None


def test_status_shows_others_only_to_those_who_may_see_the_matrix(ctx: AppContext, people: None) -> None:
    everyone = datacall.figures_status(ctx, request(ctx, QUALITY), ["2026-09"])
    own = datacall.figures_status(ctx, request(ctx, SALES), ["2026-09"])
    assert isinstance(everyone.message, Message) and isinstance(own.message, Message)
    assert "David Miller" in str(everyone.message.cards) and "David Miller" not in str(own.message.cards)


def test_outbox_subjects_match_literally(ctx: AppContext) -> None:
    now = ctx.now()
    message = Message(text="x")
    with ctx.session() as session:
        outbox.enqueue(session, "datacall:2026-09:U1:call", "dm", "U1", message, now)
        outbox.enqueue(session, "datacall:2026-091U2:call", "dm", "U2", message, now)
        outbox.enqueue(session, "sla:KS_1:close", "dm", "U1", message, now)
        outbox.enqueue(session, "sla:KSX1:close", "dm", "U1", message, now)
    with ctx.session() as session:
        assert outbox.queued_for(session, "datacall:2026-09:") == {"datacall:2026-09:U1:call"}
        assert outbox.queued_for(session, "sla:KS_") == {"sla:KS_1:close"}  # `_` is not a wildcard
        assert outbox.any_queued_for(session, "datacall:2026-09:", ending=":call")
        assert not outbox.any_queued_for(session, "datacall:2026-10:", ending=":call")
        assert outbox.queued(session, ["sla:KSX1:close", "nope"]) == {"sla:KSX1:close"}
        outbox.enqueue(session, "card", "post", "C1", message, now)
        outbox.update_in_place(session, "card", "1", "C1", Message(text="v1"), now)
        outbox.update_in_place(session, "card", "2", "C1", Message(text="v2"), now)
    states = {key: row.status for key, row in rows(ctx).items() if key.startswith("card:")}
    assert states == {"card:v1": "superseded", "card:v2": "pending"}


def test_a_person_has_an_identity_per_messenger(ctx: AppContext, people: None) -> None:
    with ctx.session() as session:
        person = person_by_identity(session, "slack", QUALITY)
        assert person is not None and person.slack_user_id == QUALITY
        person.set_identity("wecom", "wangjing")
    with ctx.session() as session:
        assert person_by_identity(session, "wecom", "wangjing").name == "王静"  # type: ignore[union-attr]
        assert session.scalar(select(Person.name).where(Person.slack_user_id == QUALITY)) == "王静"
        assert len(session.scalars(select(PersonIdentity)).all()) == 7


def test_the_identity_migration_keeps_every_slack_member_id(tmp_path: Path) -> None:
    from alembic import command

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    command.upgrade(alembic_config(engine), "0003")
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC).isoformat()
    with engine.begin() as connection:
        for index, user in enumerate(["U0AAA0001", "U0BBB0002"], start=1):
            connection.execute(text("INSERT INTO people (id, slack_user_id, name, department, active, created_at, "
                                    "updated_at) VALUES (:id, :user, :name, '', 1, :now, :now)"),
                               {"id": index, "user": user, "name": f"P{index}", "now": now})
        connection.execute(text("INSERT INTO roles (key, name_zh, name_en) VALUES ('ipqc', 'IPQC', 'IPQC')"))
        connection.execute(text("INSERT INTO person_roles (person_id, role_key) VALUES (1, 'ipqc')"))
    command.upgrade(alembic_config(engine), "head")
    with transaction(make_session_factory(engine)) as session:
        people = {p.name: (p.slack_user_id, p.role_keys) for p in session.scalars(select(Person))}
        # the copy of `people` that SQLite's batch migration makes must not cascade into their roles
        assert people == {"P1": ("U0AAA0001", ["ipqc"]), "P2": ("U0BBB0002", [])}
    command.downgrade(alembic_config(engine), "0003")
    with engine.connect() as connection:
        assert sorted(connection.execute(text("SELECT slack_user_id FROM people")).scalars()) == ["U0AAA0001",
                                                                                                  "U0BBB0002"]
    with engine.connect() as connection:  # foreign keys are on again for the application
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()
