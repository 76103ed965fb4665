"""The scorecard's use cases: `/csat customer|overview|metric|event`, the buttons on those
answers (pick a customer, share to the channel, record or correct an event) and the event
dialog's submission. Each takes the request and returns a neutral reply; who may do what,
where a chart goes and what may be shared are decided here."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.caller import Caller
from bot.core.context import AppContext
from bot.core.delivery import send_private_chart
from bot.core.i18n import gettext_for
from bot.core.inputs import clean_values, row_id
from bot.core.periods import Period, is_month, parse_period, split_period
from bot.core.replies import Reply, Request, Submitted
from bot.core.texts import T, UserError
from bot.core.views import Actions, Button, Card, Message, Paragraph
from bot.datacall.catalogue import change_metric, target_form
from bot.datacall.obligations import in_collection, last_due_month
from bot.people.callers import require
from bot.people.customers import customer_label, find_customer
from bot.scorecard.answers import (
    Answer,
    breakdown_answer,
    customer_answer,
    figure_list,
    metric_answer,
    overview_answer,
    resolve_customer,
    resolve_metric,
)
from bot.scorecard.book import ScoreBook
from bot.scorecard.events import event_form, event_type_label, record_event, validate_event
from bot.scorecard.rules import RulesRefused, change_rules, changes_from_form, field_for_problem, rules_form
from bot.scorecard.rules import in_force as rules_in_force
from storage.models import Customer, Metric, ScorecardEvent

EVENT_REFUSED = T("Your roles do not allow recording scorecard events.")


# --- where the chart goes, what may be shared ---------------------------------------------------------


def _delivered(ctx: AppContext, request: Request, answer: Answer) -> Message:
    """Queue the chart and say where it went when that is not where the answer is shown."""
    if send_private_chart(ctx, request, answer.chart, answer.chart_title):
        _ = request.caller._
        where = (_("📈 {title}: the chart follows this message.") if request.direct else
                 _("📈 {title}: the chart is in your direct messages with csatbot."))
        answer.message.cards[-1].parts.append(Paragraph(where.format(title=answer.chart_title)))
    return answer.message


def _offer_share(request: Request, answer: Answer, value: dict[str, Any]) -> None:
    """Asked in a channel, an answer is ephemeral: a button posts it for everyone."""
    if request.place and not request.direct:
        answer.message.cards[-1].parts.append(
            Actions([Button(request.caller._("Share to channel"), "csat.share", json.dumps(value), "primary")]))


def shareable_metric(session: Session, key: str) -> bool:
    """Cost figures never go to a channel, whoever asks."""
    metric = session.get(Metric, key)
    return metric is not None and metric.visibility != "costs"


# --- the answers ------------------------------------------------------------------------------------------


def _period(ctx: AppContext, session: Session, text: str | None) -> Period:
    """The month asked for; by default the last month whose figures are due, not one still
    being collected."""
    if text:
        return parse_period(text, ctx.now(), ctx.tz)
    return Period(last_due_month(session, ctx.local_today()), None)


def _collecting(ctx: AppContext, session: Session, period: Period) -> dt.date | None:
    """The due date of a month whose figures are still coming in (its scores may change)."""
    if period.month is None:
        return None
    dates = in_collection(session, period.month, ctx.local_today())
    return dates.due if dates is not None else None


def _book(ctx: AppContext, session: Session) -> ScoreBook:
    return ScoreBook(session, ctx.now(), ctx.tz)


def answer_customer(ctx: AppContext, request: Request, words: list[str]) -> Reply:
    """`/csat customer <code or name> [YYYY-MM | YYYY]`."""
    require(ctx, request.caller, "scorecard.view")
    query, period_text = split_period(words)
    with ctx.session() as session:
        period = _period(ctx, session, period_text)
        found = resolve_customer(session, request.caller, query, period.label)
        if isinstance(found, Message):
            return Reply(message=found)
        answer = customer_answer(session, request.caller, ctx.authorizer, found, period,
                                 asked_in_channel=not request.direct, collecting=_collecting(ctx, session, period),
                                 book=_book(ctx, session))
    return Reply(message=_delivered(ctx, request, answer))


def answer_picked_customer(ctx: AppContext, request: Request, choice: dict[str, Any]) -> Reply:
    """A customer picked from the list of candidates: the answer replaces the list."""
    require(ctx, request.caller, "scorecard.view")
    with ctx.session() as session:
        period = _period(ctx, session, choice.get("period"))
        customer = find_customer(session, str(choice.get("code") or "")).found
        if customer is None:
            raise UserError(T("Unknown customer {value!r}.", value=choice.get("code")))
        answer = customer_answer(session, request.caller, ctx.authorizer, customer, period,
                                 asked_in_channel=not request.direct, collecting=_collecting(ctx, session, period),
                                 book=_book(ctx, session))
    return Reply(message=_delivered(ctx, request, answer), replace=True)


def answer_overview(ctx: AppContext, request: Request, words: list[str]) -> Reply:
    """`/csat overview [YYYY-MM]`."""
    require(ctx, request.caller, "scorecard.view")
    with ctx.session() as session:
        period = _period(ctx, session, words[0] if words else None)
        if period.month is None:
            raise UserError(T("Give a month: /csat overview [YYYY-MM]"))
        answer = overview_answer(session, request.caller, period.month, _collecting(ctx, session, period),
                                 _book(ctx, session))
    _offer_share(request, answer, {"kind": "overview", "period": period.month})
    return Reply(message=_delivered(ctx, request, answer))


def answer_metric(ctx: AppContext, request: Request, words: list[str]) -> Reply:
    """`/csat metric <figure> [YYYY] [customer]`: by key or (part of) a name; no words: the list."""
    require(ctx, request.caller, "scorecard.view")
    with ctx.session() as session:
        resolved = figure_list(session, request.caller) if not words else resolve_metric(session, request.caller,
                                                                                         words)
    if isinstance(resolved, Message):
        return Reply(message=resolved)
    key, rest = resolved[0].key, resolved[1]
    year = None
    if rest and rest[0].rstrip("年").isdigit() and len(rest[0].rstrip("年")) == 4:
        year = int(rest[0].rstrip("年"))
        rest = rest[1:]
    if year is None:
        year = ctx.now().astimezone(ctx.tz).year
    with ctx.session() as session:
        customer = None
        if rest:
            found = resolve_customer(session, request.caller, " ".join(rest), None)
            if isinstance(found, Message):
                return Reply(message=found)
            customer = found
        answer = metric_answer(session, request.caller, ctx.authorizer, key, year, customer, editable=True)
        shareable = shareable_metric(session, key)
    if shareable:
        _offer_share(request, answer, {"kind": "metric", "key": key, "year": year,
                                       "customer": customer.code if customer else None})
    return Reply(message=_delivered(ctx, request, answer))


def _shared_answer(ctx: AppContext, session: Session, audience: Caller, choice: dict[str, Any]) -> Answer:
    """The answer again, for everyone in the channel: in the company language, without costs."""
    kind = choice.get("kind", "customer")
    if kind == "overview":
        period = _period(ctx, session, str(choice.get("period") or "") or None)
        if period.month is None:
            raise UserError(T("Give a month: /csat overview [YYYY-MM]"))
        return overview_answer(session, audience, period.month, _collecting(ctx, session, period),
                               _book(ctx, session))
    if kind == "metric":
        customer = find_customer(session, choice["customer"]).found if choice.get("customer") else None
        if not shareable_metric(session, str(choice.get("key"))):
            raise UserError(T("Cost figures are not shared to channels."))
        return metric_answer(session, audience, ctx.authorizer, choice["key"], int(choice["year"]), customer)
    customer = find_customer(session, str(choice.get("code") or "")).found
    if customer is None:
        raise UserError(T("Unknown customer {value!r}.", value=choice.get("code")))
    period = _period(ctx, session, choice.get("period"))
    return customer_answer(session, audience, ctx.authorizer, customer, period, for_channel=True,
                           collecting=_collecting(ctx, session, period), book=_book(ctx, session))


def answer_breakdown(ctx: AppContext, request: Request, choice: dict[str, Any]) -> Reply:
    """The button on a customer card: what lost the month's points, as a chart."""
    require(ctx, request.caller, "scorecard.view")
    month = str(choice.get("period") or "")
    if not is_month(month):
        raise UserError(T("Give a month: YYYY-MM."))
    with ctx.session() as session:
        customer = find_customer(session, str(choice.get("code") or "")).found
        if customer is None:
            raise UserError(T("Unknown customer {value!r}.", value=choice.get("code")))
        answer = breakdown_answer(session, request.caller, customer, month, _book(ctx, session))
    return Reply(message=_delivered(ctx, request, answer))


def share_answer(ctx: AppContext, request: Request, choice: dict[str, Any]) -> Reply:
    """Post an answer to the channel it was asked in, for everyone."""
    caller = request.caller
    require(ctx, caller, "scorecard.view")
    _ = caller._
    channel = request.place
    if not channel:
        raise UserError(T("There is no channel to share to here."))
    audience = Caller(caller.user_id, ctx.locale, caller.person_id, caller.name, caller.roles)
    with ctx.session() as session:
        answer = _shared_answer(ctx, session, audience, choice)
        answer.message.cards[-1].parts.append(Paragraph(audience._("Shared by {name}").format(name=caller.name)))
        key = f"share:{channel}:{caller.user_id}:{request.key}"
        outbox.enqueue(session, key, "post", channel, answer.message, ctx.now())
        if answer.chart:
            outbox.enqueue(session, key + ":chart", "image", channel, None, ctx.now(), thread_of=key,
                           image=answer.chart, image_title=answer.chart_title)
    return Reply.text(_("Shared to the channel."))


# --- scorecard events ----------------------------------------------------------------------------------


def open_event_form(ctx: AppContext, caller: Caller, customer_code: str | None = None,
                    event_id: int | None = None, complaint_number: str | None = None) -> Reply:
    """The event dialog: new (for a customer, or linked to a complaint) or correcting an event."""
    require(ctx, caller, "scorecard.record_event", EVENT_REFUSED)
    _ = caller._
    with ctx.session() as session:
        customer = find_customer(session, customer_code).found if customer_code else None
        event = session.get(ScorecardEvent, event_id) if event_id else None
        if event is not None and not event.is_current:
            return Reply.text(_("That event has been corrected since; open the customer again."))
        form = event_form(session, caller, ctx.local_today(), customer, event, complaint_number)
    return Reply(form=form)


def event_command(ctx: AppContext, request: Request, words: list[str]) -> Reply:
    """`/csat event [customer]`."""
    reply = open_event_form(ctx, request.caller, " ".join(words) or None)
    if reply.form is not None:
        reply.message = Message(text=request.caller._("Opening the event dialog…"))
    return reply


def press_event_button(ctx: AppContext, request: Request, value: str, correcting: bool) -> Reply:
    """*Record event* (value: the customer's code) or *Correct …* (value: the event's id)."""
    if correcting:
        event_id = row_id(value)
        if event_id is None:
            raise UserError(T("That event has been corrected since; open the customer again."))
        return open_event_form(ctx, request.caller, event_id=event_id)
    return open_event_form(ctx, request.caller, value)


def submit_event(ctx: AppContext, caller: Caller, state: dict[str, Any], values: dict[str, Any]) -> Submitted:
    """Record the event (or its correction, keeping the earlier version) and confirm by DM."""
    if not caller.known or not ctx.authorizer.allows(caller.roles, "scorecard.record_event"):
        return Submitted(errors={"customer": EVENT_REFUSED})
    event_id = state.get("event_id")
    values = clean_values(values)
    with ctx.session() as session:
        previous = session.get(ScorecardEvent, event_id) if isinstance(event_id, int) else None
        data, errors = validate_event(session, values, ctx.local_today(), correcting=previous is not None,
                                      locale=caller.locale or ctx.locale)
        if not errors and previous is not None and not previous.is_current:
            errors = {"reason": T("Someone corrected this event meanwhile; close and open it again.")}
        if errors:
            return Submitted(errors=errors)
        assert data is not None
        event = record_event(session, data, caller.person_id, ctx.now(), "dialog", supersedes=previous)
        label = event_type_label(session, event.event_type, event.event_date, caller.locale)
        confirmation = _event_confirmation(caller, data.customer, event, label, previous is not None)
        outbox.enqueue(session, f"event-saved:{event.id}", "dm", caller.user_id, confirmation, ctx.now())
    return Submitted()


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


# --- the rules, changed from a dialog ------------------------------------------------------------


RULES_REFUSED = T("Only quality engineers change the scorecard rules.")


def rules_command(ctx: AppContext, request: Request, words: list[str]) -> Reply:
    """`/csat rules`: the dialog with the rules in force now."""
    caller = request.caller
    require(ctx, caller, "rules.edit", RULES_REFUSED)
    this_month = ctx.local_today().strftime("%Y-%m")
    with ctx.session() as session:
        rules, _row = rules_in_force(session, this_month)
    form = rules_form(rules, caller, this_month)
    return Reply(form=form, message=Message(text=caller._("Opening the rules dialog…")))


def submit_rules(ctx: AppContext, caller: Caller, state: dict[str, Any], values: dict[str, Any]) -> Submitted:
    """A new rule set version from the month chosen, with what was changed; every problem at
    its field; the change confirmed to the person and told to the quality channel."""
    if not caller.known or not ctx.authorizer.allows(caller.roles, "rules.edit"):
        return Submitted(errors={"valid_from": RULES_REFUSED})
    values = clean_values(values)
    valid_from = str(values.get("valid_from") or "")
    if valid_from < ctx.local_today().strftime("%Y-%m"):  # a month already scored: the command line, on purpose
        return Submitted(errors={"valid_from": T("Choose this month or a later one.")})
    with ctx.session() as session:
        changes = changes_from_form(session, state.get("version"), values)
        if not changes:
            return Submitted(errors={"monthly_target": T("Nothing was changed.")})
        try:
            result = change_rules(session, valid_from, changes, ctx.now(), caller.person_id)
        except RulesRefused as refused:
            keys = [k for k in values if k != "valid_from"]
            errors = dict(refused.by_key)
            for problem in refused.general:
                errors.setdefault(field_for_problem(problem, keys), problem)
            return Submitted(errors=errors)
        except UserError as error:
            return Submitted(errors={"valid_from": error.text})
        assert result.version is not None
        lines = "\n".join(f"• {key}: {before} → {after}" for key, (before, after) in result.changed.items())
        for target, locale, key in ((caller.user_id, caller.locale, "dm"),
                                    (ctx.settings.quality_channel, ctx.locale, "channel")):
            if not target:
                continue
            _ = gettext_for(locale)
            text = _("{name} changed the scorecard rules: version {version} from {month}; earlier months keep "
                     "theirs.").format(name=caller.name, version=result.version, month=result.valid_from)
            if result.until:
                text += " " + _("It applies until {month}, where a later version is already in force: change that "
                                "one too if the change should carry on.").format(month=result.until)
            outbox.enqueue(session, f"rules:{result.version}:{key}", "dm" if key == "dm" else "post", target,
                           Message(text=text, cards=[Card(title=_("Scorecard rules"),
                                                          parts=[Paragraph(text), Paragraph(lines)])]), ctx.now())
    return Submitted()


def open_target_form(ctx: AppContext, request: Request, key: str) -> Reply:
    """*Change target* on a figure's answer: the dialog with its target in force now."""
    caller = request.caller
    require(ctx, caller, "rules.edit", RULES_REFUSED)
    this_month = ctx.local_today().strftime("%Y-%m")
    with ctx.session() as session:
        form = target_form(session, caller, key, this_month)
    return Reply(form=form)


def submit_target(ctx: AppContext, caller: Caller, state: dict[str, Any], values: dict[str, Any]) -> Submitted:
    """A figure's target from the month chosen; earlier months keep theirs."""
    if not caller.known or not ctx.authorizer.allows(caller.roles, "rules.edit"):
        return Submitted(errors={"target": RULES_REFUSED})
    values = clean_values(values)
    key, month = str(state.get("key") or ""), str(values.get("valid_from") or "")
    if month < ctx.local_today().strftime("%Y-%m"):
        return Submitted(errors={"valid_from": T("Choose this month or a later one.")})
    with ctx.session() as session:
        try:
            changed = change_metric(session, key, {"target": str(values.get("target") or "")}, month, ctx.now(),
                                    caller.person_id)
        except UserError as error:
            return Submitted(errors={"target": error.text})
        if changed.changed:
            before, after = changed.changed["target"]
            text = caller._("Target of {key}: {before} → {after} from {month}; earlier months keep theirs.").format(
                key=key, before=before, after=after, month=month)
            outbox.enqueue(session, f"target:{key}:{month}:{ctx.now().isoformat()}:{caller.user_id}", "dm",
                           caller.user_id,
                           Message(text=text), ctx.now())
    return Submitted()
