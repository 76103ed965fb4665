"""The conversational core every messenger shares: who is asking, in which language,
what they may do, and the answers that need no domain data (help, refusal, App Home)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.i18n import N_, Gettext, gettext_for, normalize_locale, pick
from bot.core.roles import Authorizer
from bot.core.views import Card, Context, Message, Paragraph, Table
from bot.people.directory import people_with_role, person_by_slack_id
from storage.models import Role


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
    Command("/csat metric <key> [YYYY] [customer]", N_("A figure's monthly trend with XmR control limits."),
            "scorecard.view"),
    Command("/csat event [customer]", N_("Record a scorecard event (return, line stop, late delivery, …)."),
            "scorecard.record_event"),
    Command("/csat figures [YYYY-MM] [customer]", N_("Hand in your monthly figures (a dialog)."), "figures.submit"),
    Command("/csat status [YYYY-MM]", N_("Who has handed in a month's figures, who is late, what is missing."),
            "help"),
    Command("/csat deputy @person <role> <from> <to>", N_("Hand a role to a deputy for a period."),
            "figures.submit"),
    Command("/complaint [customer symptom quantity]", N_("Log a customer complaint (a dialog, pre-filled from "
                                                         "what you type)."), "complaint.log"),
    Command("/complaint list [open | overdue | mine]", N_("Complaints and their state."), "complaint.log"),
    Command("/complaint show <number>", N_("A complaint with its deadlines."), "complaint.log"),
    Command("/complaint stats [YYYY-MM]", N_("Complaint statistics: Pareto of causes, trend, SLA compliance."),
            "report.view"),
]


@dataclass
class Caller:
    user_id: str
    locale: str | None  # None until the messenger has been asked
    person_id: int | None = None
    name: str = ""
    roles: list[str] = field(default_factory=list)
    role_names: list[str] = field(default_factory=list)

    @property
    def known(self) -> bool:
        return self.person_id is not None

    @property
    def _(self) -> Gettext:
        return gettext_for(self.locale)


def identify(session: Session, user_id: str, company_locale: str) -> Caller:
    """The person behind a messenger id, with their locale from the people table. When the
    table has none, the locale is left None for the caller to ask the messenger (outside
    the transaction), falling back to the company default."""
    person = person_by_slack_id(session, user_id)
    if person is None:
        return Caller(user_id, None)
    locale = normalize_locale(person.locale, company_locale) if person.locale else None
    roles = {r.key: r for r in session.scalars(select(Role).where(Role.key.in_(person.role_keys)))}
    names = [pick(locale or company_locale, roles[k].name_zh, roles[k].name_en) for k in person.role_keys
             if k in roles]
    return Caller(user_id, locale, person.id, person.name, person.role_keys, names)


def refusal(session: Session, caller: Caller) -> Message:
    """A polite answer to someone csatbot does not know, naming who can add them."""
    _ = caller._
    admins = people_with_role(session, "quality_engineer")
    names = "、".join(p.name for p in admins[:5]) if caller.locale == "zh-CN" else ", ".join(p.name for p in admins[:5])
    if names:
        who = _("Please ask a quality engineer ({names}) to add you to the people list.").format(names=names)
    else:
        who = _("Please ask your IT administrator to add you with `csatbot people import`.")
    text = _("Sorry, csatbot does not know you yet, so it cannot act for you.")
    return Message(text=text, cards=[Card(title=_("You are not registered"), parts=[Paragraph(text), Paragraph(who)])])


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
