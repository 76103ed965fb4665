"""The commands csatbot answers, with the permission each needs, and the help built from
them for the caller's roles."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.caller import Caller
from bot.core.i18n import N_, gettext_for
from bot.core.roles import Authorizer
from bot.core.views import Card, Context, Message, Paragraph, Table


@dataclass(frozen=True)
class Command:
    usage: str
    description: str  # msgid, translated when shown
    permission: str


# The commands csatbot answers; `/csat help` lists those the caller may run.
COMMANDS: list[Command] = [
    Command("/csat help", N_("List the commands you can use."), "help"),
    Command("/csat customer <code or name> [YYYY-MM | YYYY]",
            N_("A customer's score, grade, lost points and 13-month trend."), "scorecard.view"),
    Command("/csat overview [YYYY-MM]", N_("All customers ranked, grades counted, heat map."), "scorecard.view"),
    Command("/csat metric <figure> [YYYY] [customer]", N_("A figure's monthly trend with XmR control limits; the "
                                                       "figure by key or (part of) its name, `/csat metric` "
                                                       "lists them."),
            "scorecard.view"),
    Command("/csat event [customer]", N_("Record a scorecard event (return, line stop, late delivery, …)."),
            "scorecard.record_event"),
    Command("/csat figures [YYYY-MM] [customer]", N_("Hand in your monthly figures (a dialog)."), "figures.submit"),
    Command("/csat survey [results] [number]", N_("A satisfaction survey's results: CSI, dimensions, the shares "
                                                   "satisfied, the competitor."), "report.view"),
    Command("/csat status [YYYY-MM]", N_("Who has handed in a month's figures, who is late, what is missing."),
            "help"),
    Command("/csat deputy [@person <role> <from> <to>]", N_("Hand a role to a deputy for a period (a dialog)."),
            "figures.submit"),
    Command("/csat actions [open | overdue | mine | customer X]",
            N_("Corrective actions: their owner, due date and state."), "scorecard.view"),
    Command("/csat action new", N_("Open a corrective action by hand (a dialog)."), "action.manage"),
    Command("/csat revisit new [customer]", N_("Note an after-sales quality revisit owed (a dialog)."),
            "scorecard.record_event"),
    Command("/csat rules", N_("Change the scorecard rules (targets, grade bands, points) from a month on."),
            "rules.edit"),
    Command("/csat export scorecard [YYYY-MM] [customer]",
            N_("The month's customer satisfaction evaluation forms as an Excel workbook, in your direct messages; "
               "also `export complaints [YYYY-MM | YYYY]` (the ledger) and `export figures [YYYY-MM]`."),
            "report.view"),
    Command("/csat report month [YYYY-MM]", N_("Post the month's brief (indicators, customers below target, "
                                               "complaints, missing figures, actions, the forms) to the quality "
                                               "channel again."), "report.view"),
    Command("/complaint [customer symptom quantity]", N_("Log a customer complaint (a dialog, pre-filled from "
                                                         "what you type)."), "complaint.log"),
    Command("/complaint list [open | overdue | mine]", N_("Complaints and their state."), "complaint.log"),
    Command("/complaint show <number>", N_("A complaint with its deadlines."), "complaint.log"),
    Command("/complaint stats [YYYY-MM]", N_("Complaint statistics: Pareto of causes, trend, SLA compliance."),
            "report.view"),
]


WORKING = N_("⏳ Working on `{command}`…")


def working_message(locale: str | None, command: str) -> Message:
    """What a command's acknowledgement says while its answer is being made: the answer
    replaces it moments later."""
    return Message(text=gettext_for(locale)(WORKING).format(command=command.strip()))


def help_message(caller: Caller, authorizer: Authorizer) -> Message:
    _ = caller._
    rows = [[c.usage, _(c.description)] for c in COMMANDS if authorizer.allows(caller.roles, c.permission)]
    return Message(
        text=_("csatbot commands"),
        cards=[Card(title=_("csatbot commands"), parts=[
            Paragraph(_("csatbot runs the customer-satisfaction procedure: monthly figures, scorecards, "
                        "complaints and their deadlines.")),
            Table(columns=[_("Command"), _("What it does")], rows=rows),
            Context(_("Your roles: {roles}").format(roles=", ".join(caller.role_names) or _("none"))),
        ])],
    )


def unknown_command_message(caller: Caller, authorizer: Authorizer, text: str) -> Message:
    _ = caller._
    message = help_message(caller, authorizer)
    notice = _("Unknown command: {text}").format(text=text)
    message.text = notice
    message.cards[0].parts.insert(0, Paragraph(notice, strong=True))
    return message
