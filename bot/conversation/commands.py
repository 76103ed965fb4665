"""The words of `/csat` and `/complaint`, routed to the use case that answers them. A
messenger without slash commands (WeCom's text messages and menu) routes the same text here."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.actions.use_cases import actions_command
from bot.complaints.use_cases import complaint_command
from bot.core.caller import Caller
from bot.core.commands import help_message, unknown_command_message
from bot.core.context import AppContext
from bot.core.deduplication import first_time
from bot.core.delivery import tell_directly
from bot.core.replies import FAILURE, Reply, Request
from bot.core.texts import T, UserError, render_error
from bot.core.views import Actions, Button, Card, Form, Message, Paragraph
from bot.datacall.use_cases import figures_command, figures_status, hand_over_role
from bot.people.callers import require
from bot.reports.use_cases import export_command, report_command
from bot.revisits.use_cases import new_revisit_form
from bot.scorecard.use_cases import answer_customer, answer_metric, answer_overview, event_command, rules_command
from bot.surveys.use_cases import survey_command

log = logging.getLogger(__name__)
UseCase = Callable[[AppContext, Request, list[str]], Reply]

HELP_WORDS = {"", "help", "帮助", "?", "？"}
COMMAND_BUTTON = "conversation.command"  # a button (or menu entry) that runs a typed line: its value

# `/csat WORD …`: the words (English, Chinese, short), the permission, the use case
CSAT_COMMANDS: list[tuple[tuple[str, ...], str, UseCase]] = [
    (("customer", "客户", "c"), "scorecard.view", answer_customer),
    (("overview", "总览", "o"), "scorecard.view", answer_overview),
    (("metric", "指标", "m"), "scorecard.view", answer_metric),
    (("event", "事件", "e"), "scorecard.record_event", event_command),
    (("figures", "数据", "f"), "figures.submit", figures_command),
    (("survey", "调查"), "scorecard.view", survey_command),  # results: report.view; forms: owners too
    (("status", "进度", "s"), "help", figures_status),
    (("deputy", "代理"), "figures.submit", hand_over_role),
    (("rules", "规则"), "rules.edit", rules_command),
    (("actions", "action", "措施", "a"), "scorecard.view", actions_command),
    (("revisit", "回访"), "scorecard.record_event", new_revisit_form),
    (("export", "导出"), "report.view", export_command),
    (("report", "报告"), "report.view", report_command),
]
CSAT_WORDS: dict[str, tuple[str, UseCase]] = {
    word: (permission, use_case) for words, permission, use_case in CSAT_COMMANDS for word in words
}


def csat(ctx: AppContext, request: Request, text: str) -> Reply:
    """`/csat …`: help, the subcommand's use case, or what went wrong in the caller's language."""
    caller = request.caller
    require(ctx, caller)
    words = text.split()
    word = words[0].lower() if words else ""
    if word in HELP_WORDS:
        return Reply(message=help_message(caller, ctx.authorizer))
    found = CSAT_WORDS.get(word)
    if found is None:
        return Reply(message=unknown_command_message(caller, ctx.authorizer, " ".join(words)))
    permission, use_case = found
    if not ctx.authorizer.allows(caller.roles, permission):
        raise UserError(T("Your roles do not allow `/csat {word}`.", word=word))
    return use_case(ctx, request, words[1:])


def complaint(ctx: AppContext, request: Request, text: str) -> Reply:
    """`/complaint …`."""
    return complaint_command(ctx, request, text.split())


CSAT_PREFIXES = {"/csat", "csat", "满意度"}
COMPLAINT_PREFIXES = {"/complaint", "complaint", "客诉", "投诉"}


def text_message(ctx: AppContext, request: Request, text: str) -> Reply:
    """A line typed to the bot where a messenger has no slash commands (WeCom): `满意度 客户
    ACME` or `csat customer ACME` as `/csat customer ACME`, `客诉 …` as `/complaint …`, `帮助`
    as help, and the words of `/csat` on their own (`客户 ACME`)."""
    words = text.split()
    first = words[0].lower() if words else ""
    if first in COMPLAINT_PREFIXES:
        return complaint(ctx, request, " ".join(words[1:]))
    if first in CSAT_PREFIXES:
        return csat(ctx, request, " ".join(words[1:]))
    return csat(ctx, request, text)


def form_link(caller: Caller, form: Form, text: str) -> Message:
    """Where a messenger cannot open a dialog from a typed line: a button that opens the
    dialog's own page (which runs the line again, for whoever opens it)."""
    _ = caller._
    intro = _("“{title}” is a form: open it here.").format(title=form.title)
    return Message(text=intro, cards=[Card(title=form.title, parts=[
        Paragraph(intro), Actions([Button(_("Open the form"), COMMAND_BUTTON, text, style="primary")])])])


def answer_text_message(ctx: AppContext, request: Request, text: str) -> None:
    """Answer a typed line in the same conversation, once however often it is delivered. A
    command that opens a dialog answers with a button to its page."""
    with ctx.session() as session:
        if not first_time(session, f"text:{request.key}", ctx.now()):
            return
    caller = request.caller
    try:
        reply = text_message(ctx, request, text)
        message = reply.message
        if reply.form is not None:
            message = form_link(caller, reply.form, text)
    except UserError as error:
        message = render_error(error, caller.locale or ctx.locale)
    except Exception:  # csatbot's own failure: the person is told, as after a slash command
        log.exception("answering a typed line failed")
        message = Message(text=caller._(FAILURE))
    if message is not None:
        tell_directly(ctx, caller, message, f"text:{request.key}:answer")
