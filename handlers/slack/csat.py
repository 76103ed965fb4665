"""Scorecard answers and event entry in Slack: `/csat customer|overview|metric|event`, the
buttons on those answers, the customer search of the event dialog, and its submission."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.caller import Caller
from bot.core.context import AppContext
from bot.core.periods import parse_period, split_period
from bot.core.texts import T, UserError
from bot.core.views import Actions, Button, Card, Message, Paragraph
from bot.people.customers import customer_label, find_customer
from bot.scorecard.answers import Answer, customer_answer, metric_answer, overview_answer, resolve_customer
from bot.scorecard.events import event_form, event_type_label, record_event, validate_event
from handlers.slack.app import SlackBot, ephemeral
from handlers.slack.blockkit import form_values, render_form
from storage.models import Customer, Metric, ScorecardEvent

log = logging.getLogger(__name__)

OPTION_LIMIT = 100


def queue_chart(ctx: AppContext, answer: Answer, user_id: str, channel_id: str | None, key: str) -> None:
    """The chart goes to the asker's direct messages with the bot (or the DM they asked in):
    an ephemeral answer cannot carry an uploaded image, and the asker's view stays private."""
    if answer.chart is None:
        return
    target = channel_id if channel_id and channel_id.startswith("D") else user_id
    with ctx.session() as session:
        outbox.enqueue(session, key, "image", target, None, ctx.now(), image=answer.chart,
                       image_title=answer.chart_title)


def with_chart_note(caller: Caller, answer: Answer, channel_id: str | None) -> Message:
    if answer.chart is not None and not (channel_id or "").startswith("D"):
        _ = caller._
        answer.message.cards[-1].parts.append(Paragraph(_("📈 The chart is in your direct messages with csatbot.")))
    return answer.message


def customer_command(ctx: AppContext, caller: Caller, words: list[str], body: dict[str, Any]) -> Message:
    query, period_text = split_period(words)
    period = parse_period(period_text, ctx.now(), ctx.tz)
    channel_id = body.get("channel_id")
    with ctx.session() as session:
        found = resolve_customer(session, caller, query, period.label)
        if isinstance(found, Message):
            return found
        answer = customer_answer(session, caller, ctx.authorizer, found, period,
                                 asked_in_channel=not str(channel_id or "").startswith("D"))
    queue_chart(ctx, answer, caller.user_id, channel_id, f"chart:{caller.user_id}:{body.get('trigger_id')}")
    return with_chart_note(caller, answer, channel_id)


def offer_share(caller: Caller, answer: Answer, channel_id: str | None, value: dict[str, Any]) -> None:
    """Asked in a channel, an answer is ephemeral: a button posts it for everyone."""
    if channel_id and not channel_id.startswith("D"):
        answer.message.cards[-1].parts.append(
            Actions([Button(caller._("Share to channel"), "csat.share", json.dumps(value), "primary")]))


def overview_command(ctx: AppContext, caller: Caller, words: list[str], body: dict[str, Any]) -> Message:
    period = parse_period(words[0] if words else None, ctx.now(), ctx.tz)
    if period.month is None:
        raise UserError(T("Give a month: /csat overview [YYYY-MM]"))
    with ctx.session() as session:
        answer = overview_answer(session, caller, period.month)
    offer_share(caller, answer, body.get("channel_id"), {"kind": "overview", "period": period.month})
    queue_chart(ctx, answer, caller.user_id, body.get("channel_id"), f"chart:{caller.user_id}:{body.get('trigger_id')}")
    return with_chart_note(caller, answer, body.get("channel_id"))


def metric_command(ctx: AppContext, caller: Caller, words: list[str], body: dict[str, Any]) -> Message:
    if not words:
        raise UserError(T("Name a figure: /csat metric <key> [YYYY] [customer]"))
    key, rest = words[0], words[1:]
    year = None
    if rest and rest[0].rstrip("年").isdigit() and len(rest[0].rstrip("年")) == 4:
        year = int(rest[0].rstrip("年"))
        rest = rest[1:]
    if year is None:
        year = ctx.now().astimezone(ctx.tz).year
    with ctx.session() as session:
        customer = None
        if rest:
            found = resolve_customer(session, caller, " ".join(rest), None)
            if isinstance(found, Message):
                return found
            customer = found
        answer = metric_answer(session, caller, ctx.authorizer, key, year, customer)
        shareable = session.scalar(select(Metric.visibility).where(Metric.key == key)) != "costs"
    if shareable:
        offer_share(caller, answer, body.get("channel_id"),
                    {"kind": "metric", "key": key, "year": year, "customer": customer.code if customer else None})
    queue_chart(ctx, answer, caller.user_id, body.get("channel_id"), f"chart:{caller.user_id}:{body.get('trigger_id')}")
    return with_chart_note(caller, answer, body.get("channel_id"))


def open_event_form(ctx: AppContext, client: WebClient, caller: Caller, trigger_id: str,
                    customer_code: str | None = None, event_id: int | None = None,
                    complaint_number: str | None = None) -> Message | None:
    """Open the event dialog; returns a message only when it could not be opened."""
    _ = caller._
    with ctx.session() as session:
        customer = find_customer(session, customer_code).found if customer_code else None
        event = session.get(ScorecardEvent, event_id) if event_id else None
        if event is not None and not event.is_current:
            return Message(text=_("That event has been corrected since; open the customer again."))
        form = event_form(session, caller, ctx.local_today(), customer, event, complaint_number)
    client.views_open(trigger_id=trigger_id, view=render_form(form))
    return None


def shared_answer(ctx: AppContext, session: Session, audience: Caller, choice: dict[str, Any]) -> Answer:
    """The answer again, for everyone in the channel: in the company language, without costs."""
    kind = choice.get("kind", "customer")
    if kind == "overview":
        return overview_answer(session, audience, choice["period"])
    if kind == "metric":
        customer = find_customer(session, choice["customer"]).found if choice.get("customer") else None
        metric = session.get(Metric, choice["key"])
        if metric is None or metric.visibility == "costs":
            raise UserError(T("Cost figures are not shared to channels."))
        return metric_answer(session, audience, ctx.authorizer, choice["key"], int(choice["year"]), customer)
    customer = find_customer(session, choice["code"]).found
    if customer is None:
        raise UserError(T("Unknown customer {value!r}.", value=choice["code"]))
    period = parse_period(choice.get("period"), ctx.now(), ctx.tz)
    return customer_answer(session, audience, ctx.authorizer, customer, period, for_channel=True)


def register(app: App, bot: SlackBot) -> None:
    ctx = bot.ctx

    def event_command(ctx: AppContext, caller: Caller, words: list[str], body: dict[str, Any]) -> Message:
        problem = open_event_form(ctx, app.client, caller, body["trigger_id"], " ".join(words) or None)
        if problem:
            return problem
        _ = caller._
        return Message(text=_("Opening the event dialog…"))

    bot.add_subcommand(("customer", "客户", "c"), "scorecard.view", customer_command)
    bot.add_subcommand(("overview", "总览", "o"), "scorecard.view", overview_command)
    bot.add_subcommand(("metric", "指标", "m"), "scorecard.view", metric_command)
    bot.add_subcommand(("event", "事件", "e"), "scorecard.record_event", event_command)

    def known_caller(user_id: str, respond: Respond) -> Caller | None:
        caller = bot.caller(user_id)
        if not caller.known:
            respond(**ephemeral(bot.refuse(caller)), replace_original=False)
            return None
        return caller

    def pick_customer(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        caller = known_caller(body["user"]["id"], respond)
        if caller is None:
            return
        choice = json.loads(action["value"])
        channel_id = (body.get("channel") or {}).get("id")

        def run() -> Message:
            period = parse_period(choice.get("period"), ctx.now(), ctx.tz)
            with ctx.session() as session:
                customer = find_customer(session, choice["code"]).found
                if customer is None:
                    raise UserError(T("Unknown customer {value!r}.", value=choice["code"]))
                answer = customer_answer(session, caller, ctx.authorizer, customer, period,
                                         asked_in_channel=not str(channel_id or "").startswith("D"))
            queue_chart(ctx, answer, caller.user_id, channel_id, f"chart:{caller.user_id}:{action['action_ts']}")
            return with_chart_note(caller, answer, channel_id)

        respond(**ephemeral(bot.answer(caller, run)), replace_original=True)

    def share(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        """Post the answer to the channel for everyone: without costs, in the company language."""
        ack()
        caller = known_caller(body["user"]["id"], respond)
        if caller is None:
            return
        choice = json.loads(action["value"])
        channel_id = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")

        def run() -> Message:
            _ = caller._
            if not channel_id:
                raise UserError(T("There is no channel to share to here."))
            audience = Caller(caller.user_id, ctx.locale, caller.person_id, caller.name, caller.roles)
            with ctx.session() as session:
                answer = shared_answer(ctx, session, audience, choice)
                shared_by = audience._("Shared by {name}").format(name=caller.name)
                answer.message.cards[-1].parts.append(Paragraph(shared_by))
                key = f"share:{channel_id}:{caller.user_id}:{action['action_ts']}"
                outbox.enqueue(session, key, "post", channel_id, answer.message, ctx.now())
                if answer.chart:
                    outbox.enqueue(session, key + ":chart", "image", channel_id, None, ctx.now(), thread_of=key,
                                   image=answer.chart, image_title=answer.chart_title)
            return Message(text=_("Shared to the channel."))

        respond(**ephemeral(bot.answer(caller, run)), replace_original=False)

    def record_event_button(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                            client: WebClient) -> None:
        ack()
        caller = known_caller(body["user"]["id"], respond)
        if caller is None:
            return
        if not ctx.authorizer.allows(caller.roles, "scorecard.record_event"):
            respond(text=caller._("Your roles do not allow recording scorecard events."), replace_original=False)
            return
        event_id = int(action["value"]) if action["action_id"] == "csat.correct_event" else None
        code = action["value"] if event_id is None else None
        problem = open_event_form(ctx, client, caller, body["trigger_id"], code, event_id)
        if problem:
            respond(**ephemeral(problem), replace_original=False)

    def customer_options(ack: Ack, body: dict[str, Any]) -> None:
        """The dialog's customer search: code, Chinese or English name, up to 100 options."""
        caller = bot.caller(body["user"]["id"])
        text = (body.get("value") or "").strip().lower()
        with ctx.session() as session:
            query = select(Customer).where(Customer.active.is_(True)).order_by(Customer.code).limit(OPTION_LIMIT)
            if text:
                pattern = f"%{text}%"
                query = query.where(or_(func.lower(Customer.code).like(pattern),
                                        func.lower(Customer.name_zh).like(pattern),
                                        func.lower(Customer.name_en).like(pattern)))
            options = [{"text": {"type": "plain_text", "text": customer_label(c, caller.locale)[:75]},
                        "value": c.code} for c in session.scalars(query)]
        ack(options=options)

    def event_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        caller = bot.caller(body["user"]["id"])
        _ = caller._
        if not caller.known or not ctx.authorizer.allows(caller.roles, "scorecard.record_event"):
            ack(response_action="errors",
                errors={"customer": _("Your roles do not allow recording scorecard events.")})
            return
        metadata = json.loads(view.get("private_metadata") or "{}")
        values = form_values(view.get("state") or {})
        with ctx.session() as session:
            previous = session.get(ScorecardEvent, metadata["event_id"]) if metadata.get("event_id") else None
            data, errors = validate_event(session, values, ctx.local_today(), correcting=previous is not None)
            if not errors and previous is not None and not previous.is_current:
                errors = {"reason": T("Someone corrected this event meanwhile; close and open it again.")}
            if errors:
                ack(response_action="errors", errors={k: v.render(_) for k, v in errors.items()})
                return
            assert data is not None
            event = record_event(session, data, caller.person_id, ctx.now(), "dialog", supersedes=previous)
            label = event_type_label(session, event.event_type, event.event_date, caller.locale)
            confirmation = _event_confirmation(caller, data.customer, event, label, previous is not None)
            outbox.enqueue(session, f"event-saved:{event.id}", "dm", caller.user_id, confirmation, ctx.now())
        ack()

    app.action("csat.pick_customer")(ack=pick_customer, lazy=[lambda: bot.deliver_pending()])
    app.action("csat.share")(ack=share, lazy=[lambda: bot.deliver_pending()])
    app.action("csat.record_event")(record_event_button)
    app.action("csat.correct_event")(record_event_button)
    app.options("customer")(customer_options)
    app.view("scorecard.event")(ack=event_submission, lazy=[lambda: bot.deliver_pending()])


def _event_confirmation(caller: Caller, customer: Customer, event: ScorecardEvent, label: str,
                        corrected: bool) -> Message:
    _ = caller._
    what = _("Correction saved") if corrected else _("Event recorded")
    text = _("{what}: {customer}, {date}, {type} × {count}.").format(
        what=what, customer=customer_label(customer, caller.locale), date=event.event_date.isoformat(),
        type=label, count=event.count)
    parts: list = [Paragraph(text)]
    if corrected:
        parts.append(Paragraph(_("The earlier version is kept in the history.")))
    return Message(text=text, cards=[Card(title=what, parts=parts)])
