""""Show in my language": a card posted to a channel is in the company's language; anyone
may see it again, answered only to them, in their own. The card is built afresh from the
database (a stored card is text already), so it is today's state in the reader's words."""

from __future__ import annotations

import json

from bot.calendar.working_days import WorkingCalendar
from bot.complaints import ledger
from bot.complaints.card import complaint_card
from bot.core.caller import Caller
from bot.core.context import AppContext
from bot.core.periods import is_month
from bot.core.replies import Reply, Request
from bot.core.texts import T, UserError
from bot.core.views import MY_LANGUAGE, Actions, Message
from bot.datacall.status import overdue_post, status_report
from bot.people.callers import require

ACTION = MY_LANGUAGE


def show_in_my_language(ctx: AppContext, request: Request, value: str) -> Reply:
    caller = request.caller
    require(ctx, caller)
    try:
        choice = json.loads(value or "{}")
        kind, key = str(choice["kind"]), str(choice["key"])
    except (ValueError, KeyError, TypeError):
        raise UserError(T("That card cannot be shown again.")) from None
    message = _again(ctx, caller, kind, key)
    for card in message.cards:  # the reader has it in their language now
        for part in card.parts:
            if isinstance(part, Actions):
                part.buttons = [b for b in part.buttons if b.action != MY_LANGUAGE]
        card.parts = [p for p in card.parts if not (isinstance(p, Actions) and not p.buttons)]
    return Reply(message=message)


def _again(ctx: AppContext, caller: Caller, kind: str, key: str) -> Message:
    locale = caller.locale or ctx.locale
    with ctx.session() as session:
        if kind == "complaint":
            card = complaint_card(session, ledger.find(session, key), locale, ctx.tz, ctx.now(), buttons=False)
            return Message(text=card.title, cards=[card])
        if kind == "overdue_figures" and is_month(key):
            today = ctx.local_today()
            report = status_report(session, key, today, WorkingCalendar.load(session))
            report["as_of"] = today.isoformat()
            return overdue_post(report, locale)
    raise UserError(T("That card cannot be shown again."))
