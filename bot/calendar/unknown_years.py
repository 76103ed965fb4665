"""The one loud warning for a year the working calendar does not know."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.orm import Session

from bot.calendar.working_days import WorkingCalendar
from bot.core import outbox
from bot.core.i18n import gettext_for
from bot.core.views import Card, Context, Message, Paragraph

log = logging.getLogger(__name__)


def unknown_year_warning(locale: str, year: int) -> Message:
    _ = gettext_for(locale)
    text = _("Working calendar: the official holiday arrangement for {year} is not known. Deadlines and due "
             "dates in {year} count Monday to Friday only until an administrator loads it.").format(year=year)
    return Message(text=text, cards=[Card(
        title=_("⚠️ Working calendar for {year} is missing").format(year=year),
        parts=[
            Paragraph(text, strong=True),
            Paragraph(
                _("Load the State Council's arrangement (holidays and make-up working days) with "
                  "`csatbot calendar import FILE`; check it with `csatbot calendar show {year}`.").format(year=year)
            ),
            Context(_("This warning is posted once per year.")),
        ],
    )])


def warn_unknown_years(session: Session, calendar: WorkingCalendar, channel: str, locale: str,
                       now: dt.datetime, years: set[int] | None = None) -> int:
    """Queue one warning per unknown year (the outbox key makes it once, ever)."""
    if not channel:
        unknown = sorted(y for y in (years if years is not None else calendar.unknown_years_used)
                         if not calendar.knows_year(y))
        if unknown:
            log.warning("working calendar: %s unknown and no quality channel (CSATBOT_QUALITY_CHANNEL) to warn in",
                        ", ".join(map(str, unknown)))
        return 0
    queued = 0
    for year in sorted(years if years is not None else calendar.unknown_years_used):
        if calendar.knows_year(year):
            continue
        queued += outbox.enqueue(session, f"calendar:unknown-year:{year}", "post", channel,
                                 unknown_year_warning(locale, year), now)
    return queued
