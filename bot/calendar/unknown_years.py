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
    text = _("Working calendar: the official holiday arrangement for {year} is not loaded. Deadlines and due "
             "dates in {year} count the statutory holidays (New Year, Spring Festival, Tomb-sweeping, Labour Day, "
             "Dragon Boat, Mid-autumn, National Day) but no make-up working days (调休) until a quality engineer "
             "loads it.").format(year=year)
    return Message(text=text, cards=[Card(
        title=_("⚠️ Working calendar for {year} is missing").format(year=year),
        parts=[
            Paragraph(text, strong=True),
            Paragraph(
                _("Load the State Council's arrangement (holidays and make-up working days) with "
                  "`csatbot calendar import FILE` (CSV `date,kind,note`, kind `休` or `班`, as in the README); "
                  "check it with `csatbot calendar show {year}`.").format(year=year)
            ),
            Context(_("Asked in November and December before the year, and once more in it while it is missing.")),
        ],
    )])


def warn_unknown_years(session: Session, calendar: WorkingCalendar, channel: str, locale: str,
                       now: dt.datetime, years: set[int] | None = None, tz: dt.tzinfo = dt.UTC) -> int:
    """Queue the warning for each unknown year: once in each of November and December before
    it (when the arrangement is usually published), and once in the year itself."""
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
        local = now.astimezone(tz)  # the company's November, not UTC's
        asked = f":{local:%Y-%m}" if local.year == year - 1 else ""
        queued += outbox.enqueue(session, f"calendar:unknown-year:{year}{asked}", "post", channel,
                                 unknown_year_warning(locale, year), now)
    return queued
