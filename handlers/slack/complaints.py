"""`/complaint` in Slack: the logging dialog (pre-filled from the command's text), the card
in the quality channel and its buttons, returns and their approval, look-ups."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.complaints import ledger as c
from bot.complaints.card_actions import ACTIONS, FieldError
from bot.complaints.statistics import monthly_stats, stats_message
from bot.core import outbox
from bot.core.commands import help_message
from bot.core.context import AppContext
from bot.core.i18n import gettext_for
from bot.core.periods import parse_period
from bot.core.texts import T, UserError
from bot.core.views import Actions, Button, Card, Form, Message, Paragraph
from handlers.slack.app import SlackBot, ephemeral
from handlers.slack.blockkit import form_values, render_form
from handlers.slack.csat import open_event_form, queue_chart
from storage.models import Complaint, Customer, ProductReturn

HELP_WORDS = {"help", "帮助", "?", "？"}
LIST_WORDS = {"list", "列表", "ls"}
SHOW_WORDS = {"show", "查看"}
STATS_WORDS = {"stats", "统计"}


def register(app: App, bot: SlackBot) -> None:
    ctx = bot.ctx

    def command(ack: Ack, command: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        caller = bot.caller(command["user_id"])
        if not caller.known:
            ack(**ephemeral(bot.refuse(caller)))
            return
        words = (command.get("text") or "").split()
        first = words[0].lower() if words else ""

        def run() -> Message:
            _ = caller._
            if first in HELP_WORDS:
                return help_message(caller, ctx.authorizer)
            if first in LIST_WORDS:
                which = words[1].lower() if len(words) > 1 else "open"
                if which not in ("open", "overdue", "mine", "all"):
                    raise UserError(T("Use /complaint list [open | overdue | mine | all]."))
                with ctx.session() as session:
                    found = c.list_complaints(session, which, caller.person_id, ctx.now())
                    return c.list_message(session, found, which, caller.locale or ctx.locale, ctx.tz)
            if first in SHOW_WORDS:
                if len(words) < 2:
                    raise UserError(T("Use /complaint show <number>."))
                with ctx.session() as session:
                    complaint = c.find(session, words[1])
                    card = c.complaint_card(session, complaint, caller.locale or ctx.locale, ctx.tz, ctx.now(),
                                            buttons=False)
                return Message(text=card.title, cards=[card])
            if first in STATS_WORDS:
                if not ctx.authorizer.allows(caller.roles, "report.view"):
                    raise UserError(T("Complaint statistics are for quality engineers, department heads and "
                                      "management."))
                period = parse_period(words[1] if len(words) > 1 else None, ctx.now(), ctx.tz)
                if period.month is None:
                    raise UserError(T("Give a month: /complaint stats [YYYY-MM]"))
                with ctx.session() as session:
                    stats = monthly_stats(session, period.month, ctx.tz)
                answer = stats_message(stats, caller.locale or ctx.locale)
                queue_chart(ctx, answer, caller.user_id, command.get("channel_id"),
                            f"chart:{caller.user_id}:{body.get('trigger_id')}")
                return answer.message
            with ctx.session() as session:
                form = c.complaint_form(session, caller.locale or ctx.locale, ctx.now(),
                                        c.parse_prefill(session, " ".join(words)))
            client.views_open(trigger_id=command["trigger_id"], view=render_form(form))
            return Message(text=_("Opening the complaint dialog…"))

        ack(**ephemeral(bot.answer(caller, run)))

    def log_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        caller = bot.caller(body["user"]["id"])
        _ = caller._
        if not caller.known:
            ack(response_action="errors", errors={"customer": bot.refuse(caller).text})
            return
        values = form_values(view.get("state") or {})
        with ctx.session() as session:
            data, errors = c.validate_complaint(session, values, ctx.now())
            if errors:
                ack(response_action="errors", errors={k: v.render(_) for k, v in errors.items()})
                return
            assert data is not None
            complaint = c.log_complaint(session, data, caller.person_id, ctx.now(), ctx.tz)
            c.publish(session, complaint, ctx.settings.quality_channel, ctx.locale, ctx.tz, ctx.now())
            text = _("Complaint {number} is logged; it is tracked in the quality channel.").format(
                number=complaint.number)
            card = c.complaint_card(session, complaint, caller.locale or ctx.locale, ctx.tz, ctx.now(), buttons=False)
            outbox.enqueue(session, f"complaint:{complaint.number}:logged", "dm", caller.user_id,
                           Message(text=text, cards=[Card(title=text, parts=[]), card]), ctx.now())
            if complaint.owner_id != caller.person_id:
                c.tell_owner(session, complaint, ctx.locale, ctx.tz, ctx.now(), f"complaint:{complaint.number}:owner:1")
        ack()

    def card_button(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                    client: WebClient) -> None:
        ack()
        caller = bot.caller(body["user"]["id"])
        key = action["action_id"].split(".", 1)[1]
        spec = ACTIONS[key]
        number = action["value"]

        def run() -> Message:
            _ = caller._
            if not caller.known:
                return bot.refuse(caller)
            if not ctx.authorizer.allows(caller.roles, spec.permission):
                raise UserError(T("Your roles do not allow this on a complaint."))
            with ctx.session() as session:
                complaint = c.find(session, number)
                if spec.fields is None:  # acts at once
                    line = spec.apply(session, complaint, {}, caller, ctx.now(), ctx.tz)
                    c.publish(session, complaint, ctx.settings.quality_channel, ctx.locale, ctx.tz, ctx.now(),
                              line, f"complaint:{number}:{key}:{action.get('action_ts')}")
                    return Message(text="")
                form = Form(callback_id="complaint.action", title=f"{_(spec.title)}"[:24], submit=_("Save"),
                            close=_("Cancel"), intro=f"{complaint.number} · {complaint.symptom}"[:300],
                            fields=spec.fields(session, complaint, _),
                            private_metadata=json.dumps({"number": number, "action": key}))
            client.views_open(trigger_id=body["trigger_id"], view=render_form(form))
            return Message(text="")

        answer = bot.answer(caller, run)
        if answer.text:
            respond(**ephemeral(answer), replace_original=False)

    def action_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        caller = bot.caller(body["user"]["id"])
        _ = caller._
        metadata = json.loads(view.get("private_metadata") or "{}")
        spec = ACTIONS[metadata["action"]]
        if not caller.known or not ctx.authorizer.allows(caller.roles, spec.permission):
            first = (view.get("blocks") or [{}])[1].get("block_id", "x") if len(view.get("blocks") or []) > 1 else "x"
            ack(response_action="errors", errors={first: _("Your roles do not allow this on a complaint.")})
            return
        values = form_values(view.get("state") or {})
        with ctx.session() as session:
            complaint = c.find(session, metadata["number"])
            try:
                with session.begin_nested():
                    line = spec.apply(session, complaint, values, caller, ctx.now(), ctx.tz)
            except FieldError as error:
                ack(response_action="errors", errors={error.field: error.text.render(_)})
                return
            except UserError as error:
                first_field = next((b["block_id"] for b in view.get("blocks", []) if b.get("type") == "input"), "x")
                ack(response_action="errors", errors={first_field: error.text.render(_)})
                return
            stamp = ctx.now().isoformat()
            c.publish(session, complaint, ctx.settings.quality_channel, ctx.locale, ctx.tz, ctx.now(), line,
                      f"complaint:{complaint.number}:{metadata['action']}:{view.get('id')}:{stamp}")
            if metadata["action"] == "assign":
                c.tell_owner(session, complaint, ctx.locale, ctx.tz, ctx.now(),
                             f"complaint:{complaint.number}:owner:{complaint.owner_id}:{stamp}")
            if metadata["action"] == "return":
                _queue_return_approval(ctx, session, complaint, stamp)
        ack()

    def scorecard_event(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                        client: WebClient) -> None:
        ack()
        caller = bot.caller(body["user"]["id"])

        def run() -> Message:
            if not ctx.authorizer.allows(caller.roles, "scorecard.record_event"):
                raise UserError(T("Your roles do not allow recording scorecard events."))
            with ctx.session() as session:
                complaint = c.find(session, action["value"])
                customer = session.get(Customer, complaint.customer_id)
                code = customer.code if customer else None
            return open_event_form(ctx, client, caller, body["trigger_id"], code, complaint_number=complaint.number) \
                or Message(text="")

        answer = bot.answer(caller, run)
        if answer.text:
            respond(**ephemeral(answer), replace_original=False)

    def decide_return(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        caller = bot.caller(body["user"]["id"])

        def run() -> Message:
            _ = caller._
            if not ctx.authorizer.allows(caller.roles, "return.approve"):
                raise UserError(T("Only an approver (quality engineer, department head, management) decides a "
                                  "non-quality return."))
            choice = json.loads(action["value"])
            approve = action["action_id"] == "complaint.return_approve"
            with ctx.session() as session:
                row = session.get(ProductReturn, choice["return"])
                if row is None:
                    raise UserError(T("No such return."))
                c.approve_return(session, row, caller.person_id or 0, ctx.now(), approve)
                complaint = session.get(Complaint, row.complaint_id) if row.complaint_id else None
                if complaint is not None:
                    line = (T("{name} approved the non-quality return of {n} pcs.", name=caller.name, n=row.quantity)
                            if approve else T("{name} rejected the non-quality return of {n} pcs.", name=caller.name,
                                              n=row.quantity))
                    c.publish(session, complaint, ctx.settings.quality_channel, ctx.locale, ctx.tz, ctx.now(), line,
                              f"complaint:{complaint.number}:return-decision:{row.id}")
                    approval_key = f"complaint:{complaint.number}:return:{row.id}:approval"
                    decided = line.render(gettext_for(ctx.locale))
                    outbox.enqueue(session, f"{approval_key}:decided", "update", ctx.settings.quality_channel,
                                   Message(text=decided, cards=[Card(title="", parts=[Paragraph(decided)])]),
                                   ctx.now(), update_of=approval_key)
            return Message(text=_("Recorded."))

        respond(**ephemeral(bot.answer(caller, run)), replace_original=False)

    app.command("/complaint")(ack=command, lazy=[lambda: bot.deliver_pending()])
    app.view("complaint.log")(ack=log_submission, lazy=[lambda: bot.deliver_pending()])
    app.view("complaint.action")(ack=action_submission, lazy=[lambda: bot.deliver_pending()])
    for key in ACTIONS:
        app.action(f"complaint.{key}")(ack=card_button, lazy=[lambda: bot.deliver_pending()])
    app.action("complaint.scorecard_event")(scorecard_event)
    app.action("complaint.return_approve")(ack=decide_return, lazy=[lambda: bot.deliver_pending()])
    app.action("complaint.return_reject")(ack=decide_return, lazy=[lambda: bot.deliver_pending()])


def _queue_return_approval(ctx: AppContext, session: Any, complaint: Complaint, stamp: str) -> None:
    """A non-quality return waits for an approver's button in the complaint's thread."""
    from sqlalchemy import select

    row = session.scalar(select(ProductReturn).where(ProductReturn.complaint_id == complaint.id)
                         .order_by(ProductReturn.id.desc()).limit(1))
    if row is None or row.status != "pending" or not ctx.settings.quality_channel:
        return
    _ = gettext_for(ctx.locale)
    text = _("Non-quality return of {n} pcs for {number} needs approval.").format(n=row.quantity,
                                                                                  number=complaint.number)
    value = json.dumps({"return": row.id})
    message = Message(text=text, cards=[Card(title="", parts=[
        Paragraph(text), Actions([Button(_("Approve"), "complaint.return_approve", value, "primary"),
                                  Button(_("Reject"), "complaint.return_reject", value, "danger")])])])
    outbox.enqueue(session, f"complaint:{complaint.number}:return:{row.id}:approval", "post",
                   ctx.settings.quality_channel, message, ctx.now(), thread_of=c.card_key(complaint))

