"""APScheduler 3 runs the jobs in the background of the server. Jobs hold no state of
their own (the database does), so an in-memory job store is right: a restart simply
starts the timers again and the jobs catch up from the rows."""

from __future__ import annotations

import datetime as dt

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.core.context import AppContext
from scheduled.jobs import DELIVERY_JOB, DERIVE_JOBS, run_job


def build_scheduler(ctx: AppContext) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=ctx.tz, job_defaults={"coalesce": True, "max_instances": 1})
    start = dt.datetime.now(ctx.tz) + dt.timedelta(seconds=1)
    for job in [*DERIVE_JOBS, DELIVERY_JOB]:
        scheduler.add_job(run_job, IntervalTrigger(seconds=job.every_seconds, start_date=start), args=[ctx, job],
                          id=job.name, name=job.name, replace_existing=True, misfire_grace_time=job.every_seconds)
    return scheduler
