"""APScheduler 3 runs the jobs in the background of the server. Jobs hold no state of
their own (the database does), so an in-memory job store is right: a restart simply
starts the timers again and the jobs catch up from the rows.

Every worker process of every replica starts a scheduler, and the database elects the one
that runs the jobs (a lease it renews at each tick); if that one stops, another takes over
when the lease runs out. The jobs' own claims make a second run harmless even so."""

from __future__ import annotations

import datetime as dt

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.core.context import AppContext
from bot.core.leases import SCHEDULER, contender_id, hold, release
from scheduled.jobs import DELIVERY_JOB, DERIVE_JOBS, Job, run_job

LEASE_SECONDS = 30.0  # far longer than the most frequent job's interval, which renews it


class Elected:
    """Runs a job only while this process holds the scheduler's lease."""

    def __init__(self, ctx: AppContext, holder: str | None = None) -> None:
        self.ctx = ctx
        self.holder = holder or contender_id()

    def leads(self) -> bool:
        try:
            return hold(self.ctx.factory, SCHEDULER, self.holder, self.ctx.now(), LEASE_SECONDS)
        except Exception:  # the database unreachable: nobody can lead, and the jobs could not run
            return False

    def run(self, job: Job) -> bool:
        """True if the job ran here."""
        if not self.leads():
            return False
        run_job(self.ctx, job)
        return True

    def resign(self) -> None:
        try:
            release(self.ctx.factory, SCHEDULER, self.holder, self.ctx.now())
        except Exception:  # stopping anyway; the lease runs out by itself
            pass


def build_scheduler(ctx: AppContext, elected: Elected) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=ctx.tz, job_defaults={"coalesce": True, "max_instances": 1})
    start = dt.datetime.now(ctx.tz) + dt.timedelta(seconds=1)
    for job in [*DERIVE_JOBS, DELIVERY_JOB]:
        scheduler.add_job(elected.run, IntervalTrigger(seconds=job.every_seconds, start_date=start), args=[job],
                          id=job.name, name=job.name, replace_existing=True, misfire_grace_time=job.every_seconds)
    return scheduler
