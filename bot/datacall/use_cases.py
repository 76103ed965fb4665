"""The monthly data call's use cases: open the figures dialog (`/csat figures`, the call's
button), save a page of it, keep a draft when it is closed, `/csat status` and
`/csat deputy`."""

from __future__ import annotations

import datetime as dt
import functools
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.calendar.working_days import WorkingCalendar
from bot.core import outbox
from bot.core.caller import Caller
from bot.core.context import AppContext
from bot.core.deduplication import first_time, forget, submission_key
from bot.core.i18n import pick
from bot.core.inputs import clean_values
from bot.core.periods import add_months, current_period, is_month, month_start, parse_period
from bot.core.replies import Reply, Request, Submitted
from bot.core.spreadsheets import format_errors
from bot.core.stored_settings import data_call_settings
from bot.core.texts import T, Text, UserError
from bot.core.views import Card, Form, FormField, Mention, Message, Option, Paragraph
from bot.datacall.chase import refresh_call
from bot.datacall.dialog import confirmation, dialog_pages, figures_form, first_open_page, save_draft, validate_and_save
from bot.datacall.figures import import_figures
from bot.datacall.obligations import CallDates, Obligation, call_dates, obligations
from bot.datacall.status import status_message, status_report
from bot.datacall.template import figures_template
from bot.people.callers import require
from bot.people.customers import find_customer
from bot.people.deputies import DelegationRefused, add_delegation
from bot.people.identities import person_by_address
from storage.models import Person, Role, RoleDelegation

MONTH_WORD = re.compile(r"^\d{4}")


def _period_or_current(ctx: AppContext, text: str | None) -> str:
    if not text:
        return current_period(ctx.local_today())
    period = parse_period(text, ctx.now(), ctx.tz)
    if period.month is None:
        raise UserError(T("Give a month as YYYY-MM."))
    return period.month


def _duty(ctx: AppContext, session: Session, caller: Caller, period: str) -> tuple[CallDates, Obligation | None]:
    """The month's call dates and what the caller owes for it (as of today, or the due date
    once it has passed: a figure owed then stays owed)."""
    dates = call_dates(WorkingCalendar.load(session), period, data_call_settings(session))
    duty = obligations(session, period, min(ctx.local_today(), dates.due)).get(caller.person_id or -1)
    return dates, duty


def closed_period(ctx: AppContext, session: Session, period: str) -> Text | None:
    """Why a month's figures cannot be handed in now, or None: a month is open once it is over,
    for `late_months` months (12 unless the company sets it in the data-call settings)."""
    if not is_month(period):
        return T("Give a month as YYYY-MM.")
    settings = data_call_settings(session)
    today = ctx.local_today()
    if today < month_start(add_months(period, 1)):  # once it is over, figures may come before the call
        opens = call_dates(WorkingCalendar.load(session), period, settings).opens
        return T("{period} is not over yet: its figures open on {opens}.", period=period, opens=opens.isoformat())
    oldest = add_months(current_period(today), -int(settings.get("late_months", 12)))
    if period < oldest:
        return T("{period} is closed: figures are taken for {oldest} and later. Ask a quality engineer to import "
                 "older ones.", period=period, oldest=oldest)
    return None


def open_figures(ctx: AppContext, caller: Caller, period: str, customer_query: str | None = None) -> Reply:
    """The dialog for the caller's figures of `period`; a message instead when there is
    nothing to open."""
    require(ctx, caller)
    _ = caller._
    with ctx.session() as session:
        problem = closed_period(ctx, session, period)
        if problem is not None:
            return Reply.text(problem.render(_))
        _dates, duty = _duty(ctx, session, caller, period)
        if duty is None:
            return Reply.text(_("You owe no figures for {period}.").format(period=period))
        only = None
        if customer_query:
            match = find_customer(session, customer_query)
            if match.found is None:
                raise UserError(T("Unknown customer {value!r}.", value=customer_query))
            only = match.found.id
            if not any(i.customer_id == only for i in duty.items):
                return Reply.text(_("You owe no figures for that customer in {period}.").format(period=period))
        form = figures_form(session, caller, duty, period, first_open_page(duty, only), only)
    return Reply(form=form)


FORM_WORDS = {"form", "excel", "xlsx", "表格", "模板"}


def figures_command(ctx: AppContext, request: Request, words: list[str]) -> Reply:
    """`/csat figures [YYYY-MM] [customer]`; `/csat figures form [YYYY-MM]` sends the Excel form."""
    require(ctx, request.caller, "figures.submit")
    if words and words[0].lower() in FORM_WORDS:
        return send_figures_form(ctx, request, words[1] if len(words) > 1 else None)
    period_text = words[0] if words and MONTH_WORD.match(words[0]) else None
    rest = words[1:] if period_text else words
    period = _period_or_current(ctx, period_text)
    reply = open_figures(ctx, request.caller, period, " ".join(rest) or None)
    if reply.form is not None:
        reply.message = Message(text=request.caller._("Opening your figures for {period}…").format(period=period))
    return reply


def send_figures_form(ctx: AppContext, request: Request, month_text: str | None) -> Reply:
    """The month's figures as an Excel form, to the asker's direct messages: their own rows
    (a quality engineer's: everyone's), to fill in and send back there."""
    caller = request.caller
    _ = caller._
    period = _period_or_current(ctx, month_text)
    everyone = ctx.authorizer.allows(caller.roles, "admin")
    with ctx.session() as session:
        closed = closed_period(ctx, session, period)
        if closed is not None:
            raise UserError(closed)
        content = figures_template(session, period, caller.locale or ctx.locale, ctx.local_today(),
                                   None if everyone else caller.person_id)
        outbox.enqueue(session, f"figures-form:{period}:{caller.user_id}:{request.key}", "image", caller.user_id,
                       None, ctx.now(), image=content, image_title=_("Figures for {period} (Excel form)").format(
                           period=period), file_name=f"figures-{period}.xlsx")
    return Reply.text(_("The form for {period} is on its way to your direct messages: fill in the value column and "
                        "send the file back there.").format(period=period))


def open_called_figures(ctx: AppContext, caller: Caller, choice: dict[str, Any]) -> Reply:
    """The button in the monthly call (or App Home): the month it names, else the current one."""
    period = str(choice.get("period") or "") or current_period(ctx.local_today())
    return open_figures(ctx, caller, _period_or_current(ctx, period))


def submit_figures(ctx: AppContext, caller: Caller, state: dict[str, Any], values: dict[str, Any],
                   dialog: str) -> Submitted:
    """Validate and save one page of the figures dialog; confirm by DM; the next page if
    there is one. `dialog` identifies the dialog as the messenger knows it."""
    values = clean_values(values)
    period = str(state.get("period") or "")
    page = state.get("page") if isinstance(state.get("page"), int) else 0
    only = state.get("customer") if isinstance(state.get("customer"), int) else None
    with ctx.session() as session:
        problem = closed_period(ctx, session, period)
        if problem is not None:
            return Submitted(problem=problem)
        _dates, duty = _duty(ctx, session, caller, period)
        if duty is None:
            return Submitted(problem=T("You owe no figures for {period}.", period=period))
        # no savepoint here: on SQLite one would hold a read snapshot that a concurrent writer makes stale
        once = submission_key(dialog) if dialog else None
        if once is not None and not first_time(session, once, ctx.now()):
            saved, errors = None, {}  # the page was saved before: answer as then, save nothing again
        else:
            saved, errors = validate_and_save(session, caller, duty, period, values, ctx.now())
            if errors and once is not None:
                forget(session, once)  # a corrected submission of the same dialog is a first time
        if errors:
            return Submitted(errors=errors)
        if saved is not None and saved.recorded:
            key = f"figures-saved:{period}:{caller.user_id}:{dialog}:{page}:{ctx.now().isoformat()}"
            outbox.enqueue(session, key, "dm", caller.user_id, confirmation(session, caller, period, saved),
                           ctx.now())
            dates, now_owed = _duty(ctx, session, caller, period)
            if now_owed is not None:
                refresh_call(session, dates, now_owed, ctx.locale, ctx.now(), key)
        pages = dialog_pages([i for i in duty.items if only in (None, i.customer_id)])
        if 0 <= page and page + 1 < len(pages):
            _dates, duty = _duty(ctx, session, caller, period)
            assert duty is not None
            return Submitted(next_form=figures_form(session, caller, duty, period, page + 1, only))
    return Submitted()


def keep_draft(ctx: AppContext, caller: Caller, state: dict[str, Any], values: dict[str, Any]) -> None:
    """Closing the dialog keeps what was typed as a draft for next time."""
    if caller.person_id is None or not state.get("period"):
        return
    with ctx.session() as session:
        save_draft(session, caller.person_id, str(state["period"]), values, ctx.now())


def figures_status(ctx: AppContext, request: Request, words: list[str]) -> Reply:
    """`/csat status [YYYY-MM]`: everyone for those who may see the matrix, else one's own line."""
    caller = request.caller
    require(ctx, caller, "help")
    period = _period_or_current(ctx, words[0] if words else None)
    with ctx.session() as session:
        report = status_report(session, period, ctx.local_today(), WorkingCalendar.load(session))
    if not ctx.authorizer.allows(caller.roles, "figures.status_matrix"):
        report["people"] = [p for p in report["people"] if p["person_id"] == caller.person_id]
        report["totals"] = {"people": len(report["people"]),
                            **{s: sum(p["status"] == s for p in report["people"])
                               for s in ("submitted", "late", "open")}}
    return Reply(message=status_message(report, caller.locale or ctx.locale))


def hand_over_role(ctx: AppContext, request: Request, words: list[str]) -> Reply:
    """`/csat deputy` opens a dialog to pick the deputy and the dates (on a phone nobody types
    a mention and two dates); `/csat deputy <person> <role> <from> <to>` does it at once, the
    person as the messenger's user id."""
    caller = request.caller
    require(ctx, caller, "figures.submit")
    usage = T("Usage: /csat deputy (a dialog opens), or /csat deputy @person <role> <from YYYY-MM-DD> "
              "<to YYYY-MM-DD>")
    with ctx.session() as session:
        person = person_by_address(session, caller.user_id)
        if person is None:
            raise UserError(T("{value} is not in the people list.", value=caller.user_id))
        if not words:
            return Reply(form=deputy_form(session, caller, person, ctx.local_today()))
        if len(words) != 4:
            raise UserError(usage)
        try:
            start, end = dt.date.fromisoformat(words[2]), dt.date.fromisoformat(words[3])
        except ValueError:
            raise UserError(usage) from None
        delegation = add_delegation(session, person, person_by_address(session, words[0]), words[1], start, end,
                                    person.id, ctx.now())
        message = _handed_over(session, caller, delegation, ctx.locale)
    return Reply(message=message)


def _handed_over(session: Session, caller: Caller, delegation: RoleDelegation, company_locale: str) -> Message:
    _ = caller._
    role = session.get(Role, delegation.role_key)
    deputy = session.get(Person, delegation.deputy_id)
    role_name = pick(caller.locale or company_locale, role.name_zh, role.name_en) if role else delegation.role_key
    text = _("From {start} to {end}, {deputy} answers for your role {role}; the record shows it was on your "
             "behalf.").format(start=delegation.start_date, end=delegation.end_date,
                               deputy=deputy.name if deputy else "", role=role_name)
    return Message(text=text, cards=[Card(title="", parts=[Mention(deputy.slack_user_id if deputy else "", text)])])


def deputy_form(session: Session, caller: Caller, person: Person, today: dt.date) -> Form:
    _ = caller._
    roles = {r.key: r for r in session.scalars(select(Role).where(Role.key.in_(person.role_keys)))}
    locale = caller.locale or "zh-CN"
    options = [Option(key, pick(locale, roles[key].name_zh, roles[key].name_en) if key in roles else key)
               for key in person.role_keys]
    return Form(kind="people.deputy", title=_("Hand over a role"), submit=_("Hand over"), close=_("Cancel"),
                intro=_("While you are away, your deputy answers the monthly call for this role; the record "
                        "shows each figure was entered on your behalf."),
                fields=[FormField("deputy", _("Deputy"), "user"),
                        FormField("role", _("Role"), "select", initial=options[0].value if len(options) == 1 else None,
                                  options=options),
                        FormField("start", _("From"), "date", initial=today.isoformat()),
                        FormField("end", _("To"), "date")])


def submit_deputy(ctx: AppContext, caller: Caller, state: dict[str, Any], values: dict[str, Any],
                  dialog: str) -> Submitted:
    """The deputy dialog: each problem at its field; accepted once, however often it arrives."""
    errors: dict[str, Text] = {}
    dates: dict[str, dt.date] = {}
    for key in ("start", "end"):
        try:
            dates[key] = dt.date.fromisoformat(str(values.get(key) or ""))
        except ValueError:
            errors[key] = T("Choose a date.")
    if not values.get("deputy"):
        errors["deputy"] = T("Choose who stands in for you.")
    if not values.get("role"):
        errors["role"] = T("Choose the role to hand over.")
    if errors:
        return Submitted(errors=errors)
    with ctx.session() as session:
        person = person_by_address(session, caller.user_id)
        deputy = person_by_address(session, str(values["deputy"]))
        if person is None:
            return Submitted(problem=T("{value} is not in the people list.", value=caller.user_id))
        if not first_time(session, submission_key(dialog), ctx.now()):
            return Submitted()
        try:
            delegation = add_delegation(session, person, deputy, str(values["role"]), dates["start"], dates["end"],
                                        person.id, ctx.now())
        except DelegationRefused as refused:
            forget(session, submission_key(dialog))
            return Submitted(errors={refused.field: refused.text})
        outbox.enqueue(session, f"deputy:{delegation.id}:told", "dm", caller.user_id,
                       _handed_over(session, caller, delegation, ctx.locale), ctx.now())
    return Submitted()


UPLOAD_SUFFIXES = (".xlsx", ".xlsm", ".csv")
UPLOAD_BYTES = 10 * 1024 * 1024  # a file sent to the bot; the form of 2,000 customers is far smaller
UPLOADS_AT_ONCE = 5
ERRORS_SHOWN = 15


def import_uploaded_figures(ctx: AppContext, caller: Caller, uploads: list[tuple[str, bytes]], key: str) -> None:
    """Spreadsheets of figures sent to csatbot in a direct message (the form `/csat figures
    form` sends, filled in Excel): each imported all or nothing, as the command line does, and
    answered in the same conversation. Months the dialog would refuse are refused here too; a
    quality engineer may send anyone's figures, anyone else only those the month's call asks
    of them (or of whom they stand in for)."""
    _ = caller._
    now = ctx.now()
    try:
        require(ctx, caller, "figures.submit")
    except UserError as refused:
        if caller.known:  # someone csatbot does not know is not written to
            with ctx.session() as session:
                outbox.enqueue(session, f"upload:{key}:refused", "dm", caller.user_id,
                               Message(text=refused.text.render(_)), now)
        return
    with ctx.session() as session:
        if not first_time(session, f"upload:{key}", now):
            return
        everyone = ctx.authorizer.allows(caller.roles, "admin")
        lines = [_upload_result(ctx, session, caller, name, content, now, None if everyone else _owed(
            ctx, session, caller)) for name, content in uploads[:UPLOADS_AT_ONCE]]
        text = "\n\n".join(lines) or _("Send the figures as an Excel (.xlsx) or CSV file.")
        outbox.enqueue(session, f"upload:{key}:answer", "dm", caller.user_id,
                       Message(text=text.split("\n", 1)[0], cards=[Card(title="", parts=[Paragraph(text)])]), now)


def _owed(ctx: AppContext, session: Session, caller: Caller) -> Callable[[str, str, int | None], int | None]:
    """On whose behalf the caller owes a figure of a month (None: not theirs), month by month."""
    cache: dict[str, dict[tuple[str, int | None], int]] = {}

    def owed(metric: str, month: str, customer_id: int | None) -> int | None:
        if month not in cache:
            _dates, duty = _duty(ctx, session, caller, month)
            cache[month] = {(i.metric, i.customer_id): whose for i, whose in duty.items.items()} if duty else {}
        return cache[month].get((metric, customer_id))

    return owed


def _upload_result(ctx: AppContext, session: Session, caller: Caller, name: str, content: bytes, now: dt.datetime,
                   owed: Callable[[str, str, int | None], int | None] | None) -> str:
    _ = caller._
    suffix = Path(name).suffix.lower()
    if not content:
        return _("{name}: not imported: the file could not be read, is empty, or is larger than {mb} MB.").format(
            name=name, mb=UPLOAD_BYTES // 1024 // 1024)
    if suffix not in UPLOAD_SUFFIXES:
        return _("{name}: not imported. Send the figures as an Excel (.xlsx) or CSV file; `/csat figures form` "
                 "sends you the form.").format(name=name)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(content)
        try:  # all or nothing by itself: a file with any bad row writes none
            result = import_figures(session, path, now, by=caller.person_id, owed=owed,
                                    closed=functools.cache(lambda month: closed_period(ctx, session, month)))
        except UserError as error:
            return _("{name}: not imported. {reason}").format(name=name, reason=error.text.render(_))
    if not result.ok:
        problems = format_errors(result.errors[:ERRORS_SHOWN], _)
        more = len(result.errors) - ERRORS_SHOWN + getattr(result.errors, "more", 0)
        if more > 0:
            problems.append(_("… and {n} more.").format(n=more))
        return "\n".join([_("{name}: nothing imported; mend these rows and send it again:").format(name=name),
                          *problems])
    for month in sorted(result.periods):  # each call message no longer asks for what arrived
        dates = call_dates(WorkingCalendar.load(session), month, data_call_settings(session))
        for duty in obligations(session, month, min(ctx.local_today(), dates.due)).values():
            refresh_call(session, dates, duty, ctx.locale, now, f"upload:{name}:{now.isoformat()}")
    return _("{name}: {created} figures recorded, {unchanged} unchanged, {skipped} rows left empty.").format(
        name=name, created=result.created, unchanged=result.unchanged, skipped=result.skipped)
