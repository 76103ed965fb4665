"""The jobs. Each derives what is due from the database as of `now` and enqueues it into
the outbox; delivery is a job of its own. Running any job twice, or on two replicas, sends
nothing twice."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.calendar import WorkingCalendar
from bot.calendar_watch import warn_unknown_years
from bot.context import AppContext
from bot.outbox import DeliveryReport

log = logging.getLogger(__name__)

LOOKAHEAD_DAYS = 45


def check_calendar(ctx: AppContext, now: dt.datetime) -> int:
    """Warn about this year, and next year once it is near, when nobody knows its holidays."""
    today = now.astimezone(ctx.tz).date()
    years = {today.year, (today + dt.timedelta(days=LOOKAHEAD_DAYS)).year}
    with ctx.session() as session:
        calendar = WorkingCalendar.load(session)
        unknown = {y for y in years if not calendar.knows_year(y)}
        return warn_unknown_years(session, calendar, ctx.settings.quality_channel, ctx.locale, now, unknown)


def deliver_outbox(ctx: AppContext, now: dt.datetime) -> DeliveryReport:
    return ctx.deliverer.deliver_due(now)


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[AppContext, dt.datetime], object]
    every_seconds: int


# Jobs that derive work; later capabilities add theirs here.
DERIVE_JOBS: list[Job] = [
    Job("check_calendar", check_calendar, 3600),
]
DELIVERY_JOB = Job("deliver_outbox", deliver_outbox, 2)


def run_job(ctx: AppContext, job: Job) -> None:
    """Entry point for the scheduler: one job as of the context's clock, errors logged."""
    try:
        job.run(ctx, ctx.now())
    except Exception:  # a failing job must not stop the scheduler
        log.exception("job %s failed", job.name)


def run_due(ctx: AppContext, now: dt.datetime) -> dict[str, object]:
    """Every job once as of `now`, then the outbox: for operators catching up and for tests."""
    results: dict[str, object] = {}
    for job in DERIVE_JOBS:
        results[job.name] = job.run(ctx, now)
    results[DELIVERY_JOB.name] = DELIVERY_JOB.run(ctx, now)
    return results
