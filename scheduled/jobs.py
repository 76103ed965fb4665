"""The jobs. Each derives what is due from the database as of `now` and enqueues it into
the outbox; delivery is a job of its own. Running any job twice, or on two replicas, sends
nothing twice."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.calendar.unknown_years import warn_unknown_years
from bot.calendar.working_days import WorkingCalendar
from bot.complaints.scan import ScanReport, opinion_reminders, scan
from bot.core.context import AppContext
from bot.core.outbox import DeliveryReport
from bot.datacall.chase import ChaseReport, chase
from bot.datacall.obligations import last_due_month
from bot.scorecard.actions import evaluate_due_months

log = logging.getLogger(__name__)

ASK_FOR_NEXT_YEAR_FROM_MONTH = 11  # the State Council publishes the next year's arrangement in late autumn


def check_calendar(ctx: AppContext, now: dt.datetime) -> int:
    """Warn about this year, and from November about next year, when nobody has loaded its
    holiday arrangement."""
    today = now.astimezone(ctx.tz).date()
    years = {today.year} | ({today.year + 1} if today.month >= ASK_FOR_NEXT_YEAR_FROM_MONTH else set())
    with ctx.session() as session:
        calendar = WorkingCalendar.load(session)
        unknown = {y for y in years if not calendar.knows_year(y)}
        return warn_unknown_years(session, calendar, ctx.settings.quality_channel, ctx.locale, now, unknown, ctx.tz)


def evaluate_scorecard_actions(ctx: AppContext, now: dt.datetime) -> int:
    """Open the corrective actions the scorecard rules call for, for every month whose
    figures are due (so a month is judged on its data, not on what is still missing) and
    that was not evaluated yet or changed since, and for each year such a December closes."""
    today = now.astimezone(ctx.tz).date()
    with ctx.session() as session:
        return evaluate_due_months(session, last_due_month(session, today), now, ctx.tz)


def data_call(ctx: AppContext, now: dt.datetime) -> ChaseReport:
    """The monthly call, reminders and overdue posts for the month being called for."""
    with ctx.session() as session:
        return chase(session, now, ctx.tz, ctx.locale, ctx.settings.quality_channel)


def complaint_deadlines(ctx: AppContext, now: dt.datetime) -> ScanReport:
    """Early warnings and breaches of complaint deadlines; opinion reminders after closure."""
    with ctx.session() as session:
        report = scan(session, now, ctx.tz, ctx.locale, ctx.settings.quality_channel)
        report.queued += opinion_reminders(session, now, ctx.locale)
        return report


def corrective_actions(ctx: AppContext, now: dt.datetime) -> int:
    """A card in the quality channel for every action a rule or a complaint opened, and their
    due dates chased."""
    from bot.actions.reminders import chase_actions
    from bot.actions.use_cases import publish_new_actions

    posted = publish_new_actions(ctx, now)
    with ctx.session() as session:
        return posted + chase_actions(session, now, ctx.tz, ctx.locale, ctx.settings.quality_channel).queued


def revisits(ctx: AppContext, now: dt.datetime) -> int:
    """The customer's owner told of each quality revisit due, then chased until it is recorded."""
    from bot.revisits.visits import chase_revisits

    with ctx.session() as session:
        return chase_revisits(session, now, ctx.tz, ctx.locale)


def refresh_scores(ctx: AppContext, now: dt.datetime) -> int:
    """Score again what changed since it was stored, so that answers read current scores."""
    from bot.scorecard.stored import refresh

    with ctx.session() as session:
        return refresh(session, now, ctx.tz)


def reports(ctx: AppContext, now: dt.datetime) -> int:
    """The reports of the last due month, once each, when they are due: the brief, the
    complaint statistics to the commercial department, the quarterly analysis, the annual report."""
    from bot.reports.brief import post_due_reports

    with ctx.session() as session:
        return post_due_reports(session, now, ctx.tz, ctx.locale, ctx.settings.quality_channel,
                                ctx.settings.commercial_channel)


def surveys(ctx: AppContext, now: dt.datetime) -> int:
    """Each open survey's links to the customers' owners on the opening day, then reminders
    of who has not answered, on working days until it closes."""
    from bot.surveys.chasing import chase_surveys

    with ctx.session() as session:
        return chase_surveys(session, now, ctx.tz, ctx.locale, ctx.settings.public_url)


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
    Job("evaluate_scorecard_actions", evaluate_scorecard_actions, 6 * 3600),
    Job("data_call", data_call, 300),
    Job("complaint_deadlines", complaint_deadlines, 60),
    Job("corrective_actions", corrective_actions, 300),
    Job("revisits", revisits, 300),
    Job("refresh_scores", refresh_scores, 60),
    Job("reports", reports, 300),
    Job("surveys", surveys, 300),
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
