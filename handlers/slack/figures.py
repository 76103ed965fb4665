"""The monthly data call in Slack: the dialog behind the call's button and `/csat figures`,
paging, drafts kept when the dialog is closed, `/csat status` and `/csat deputy`."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy import select

from bot.calendar.working_days import WorkingCalendar
from bot.core import outbox
from bot.core.caller import Caller
from bot.core.context import AppContext
from bot.core.i18n import pick
from bot.core.periods import add_months, current_period, month_start, parse_period
from bot.core.stored_settings import data_call_settings
from bot.core.texts import T, UserError
from bot.core.views import Card, Mention, Message
from bot.datacall.call import (
    call_dates,
    confirmation,
    dialog_pages,
    figures_form,
    first_open_page,
    obligations,
    save_draft,
    status_message,
    status_report,
    validate_and_save,
)
from bot.people.customers import find_customer
from bot.people.deputies import add_delegation
from handlers.slack.app import SlackBot, ephemeral
from handlers.slack.blockkit import form_values, render_form
from storage.models import Person, Role

MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(\|[^>]*)?>$|^([UW][A-Z0-9]+)$")


def _period_or_current(ctx: AppContext, text: str | None) -> str:
    if not text:
        return current_period(ctx.local_today())
    period = parse_period(text, ctx.now(), ctx.tz)
    if period.month is None:
        raise UserError(T("Give a month as YYYY-MM."))
    return period.month


def open_figures(ctx: AppContext, client: WebClient, caller: Caller, trigger_id: str, period: str,
                 customer_query: str | None = None) -> Message | None:
    """Open the dialog for the caller's figures; a message instead when there is nothing to open."""
    _ = caller._
    with ctx.session() as session:
        calendar = WorkingCalendar.load(session)
        dates = call_dates(calendar, period, data_call_settings(session))
        if ctx.local_today() < month_start(add_months(period, 1)):
            return Message(text=_("{period} is not over yet: its figures open on {opens}.").format(
                period=period, opens=dates.opens.isoformat()))
        duty = obligations(session, period, min(ctx.local_today(), dates.due)).get(caller.person_id or -1)
        if duty is None:
            return Message(text=_("You owe no figures for {period}.").format(period=period))
        only = None
        if customer_query:
            match = find_customer(session, customer_query)
            if match.found is None:
                raise UserError(T("Unknown customer {value!r}.", value=customer_query))
            only = match.found.id
            if not any(i.customer_id == only for i in duty.items):
                return Message(text=_("You owe no figures for that customer in {period}.").format(period=period))
        form = figures_form(session, caller, duty, period, first_open_page(duty, only), only)
    client.views_open(trigger_id=trigger_id, view=render_form(form))
    return None


def register(app: App, bot: SlackBot) -> None:
    ctx = bot.ctx

    def figures_command(ctx: AppContext, caller: Caller, words: list[str], body: dict[str, Any]) -> Message:
        period_text = words[0] if words and re.match(r"^\d{4}", words[0]) else None
        rest = words[1:] if period_text else words
        period = _period_or_current(ctx, period_text)
        problem = open_figures(ctx, app.client, caller, body["trigger_id"], period, " ".join(rest) or None)
        return problem or Message(text=caller._("Opening your figures for {period}…").format(period=period))

    def status_command(ctx: AppContext, caller: Caller, words: list[str], body: dict[str, Any]) -> Message:
        period = _period_or_current(ctx, words[0] if words else None)
        with ctx.session() as session:
            report = status_report(session, period, ctx.local_today(), WorkingCalendar.load(session))
        if not ctx.authorizer.allows(caller.roles, "figures.status_matrix"):
            report["people"] = [p for p in report["people"] if p["slack_user_id"] == caller.user_id]
            report["totals"] = {"people": len(report["people"]),
                                **{s: sum(p["status"] == s for p in report["people"])
                                   for s in ("submitted", "late", "open")}}
        return status_message(report, caller.locale or ctx.locale)

    def deputy_command(ctx: AppContext, caller: Caller, words: list[str], body: dict[str, Any]) -> Message:
        _ = caller._
        usage = T("Usage: /csat deputy @person <role> <from YYYY-MM-DD> <to YYYY-MM-DD>")
        if len(words) != 4:
            raise UserError(usage)
        match = MENTION.match(words[0])
        if match is None:
            raise UserError(usage)
        deputy_id = match.group(1) or match.group(3)
        try:
            start, end = dt.date.fromisoformat(words[2]), dt.date.fromisoformat(words[3])
        except ValueError:
            raise UserError(usage) from None
        with ctx.session() as session:
            person = session.scalar(select(Person).where(Person.slack_user_id == caller.user_id))
            deputy = session.scalar(select(Person).where(Person.slack_user_id == deputy_id))
            assert person is not None
            delegation = add_delegation(session, person, deputy, words[1], start, end, person.id, ctx.now())
            role = session.get(Role, delegation.role_key)
            role_name = pick(caller.locale or ctx.locale, role.name_zh, role.name_en) if role else words[1]
            deputy_name = deputy.name if deputy else deputy_id
        text = _("From {start} to {end}, {deputy} answers for your role {role}; the record shows it was on your "
                 "behalf.").format(start=start, end=end, deputy=deputy_name, role=role_name)
        return Message(text=text, cards=[Card(title="", parts=[Mention(deputy_id, text)])])

    bot.add_subcommand(("figures", "数据", "f"), "figures.submit", figures_command)
    bot.add_subcommand(("status", "进度", "s"), "help", status_command)
    bot.add_subcommand(("deputy", "代理"), "figures.submit", deputy_command)

    def open_button(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                    client: WebClient) -> None:
        ack()
        caller = bot.caller(body["user"]["id"])
        if not caller.known:
            respond(**ephemeral(bot.refuse(caller)), replace_original=False)
            return
        period = json.loads(action.get("value") or "{}").get("period") or current_period(ctx.local_today())
        problem = bot.answer(caller, lambda: open_figures(ctx, client, caller, body["trigger_id"], period)
                             or Message(text=""))
        if problem.text:
            bot.tell(caller, body, respond, problem, f"figures-open:{caller.user_id}:{action.get('action_ts')}")

    def submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        caller = bot.caller(body["user"]["id"])
        _ = caller._
        metadata = json.loads(view.get("private_metadata") or "{}")
        period, page = metadata["period"], int(metadata.get("page", 0))
        values = form_values(view.get("state") or {})
        with ctx.session() as session:
            calendar = WorkingCalendar.load(session)
            dates = call_dates(calendar, period, data_call_settings(session))
            duty = obligations(session, period, min(ctx.local_today(), dates.due)).get(caller.person_id or -1)
            if duty is None:
                ack(response_action="errors", errors={"note": _("You owe no figures for {period}.").format(
                    period=period)})
                return
            saved, errors = validate_and_save(session, caller, duty, period, values, ctx.now())
            if errors:
                ack(response_action="errors", errors={k: v.render(_) for k, v in errors.items()})
                return
            assert saved is not None
            if saved.recorded:
                key = f"figures-saved:{period}:{caller.user_id}:{view.get('id')}:{page}:{ctx.now().isoformat()}"
                outbox.enqueue(session, key, "dm", caller.user_id, confirmation(session, caller, period, saved),
                               ctx.now())
            pages = dialog_pages([i for i in duty.items if metadata.get("customer") in (None, i.customer_id)])
            if page + 1 < len(pages):
                duty = obligations(session, period, min(ctx.local_today(), dates.due))[duty.person_id]
                form = figures_form(session, caller, duty, period, page + 1, metadata.get("customer"))
                ack(response_action="update", view=render_form(form))
                return
        ack()

    def closed(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        """Closing the dialog keeps what was typed as a draft for next time."""
        ack()
        caller = bot.caller(body["user"]["id"])
        if caller.person_id is None:
            return
        metadata = json.loads(view.get("private_metadata") or "{}")
        with ctx.session() as session:
            save_draft(session, caller.person_id, metadata["period"], form_values(view.get("state") or {}),
                       ctx.now())

    app.action("figures.open")(open_button)
    app.view("figures.submit")(ack=submit, lazy=[lambda: bot.deliver_pending()])
    app.view_closed("figures.submit")(closed)
