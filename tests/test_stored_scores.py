"""Stored scores equal a fresh computation: on a random company, after random changes made
through the real writers (events recorded and corrected, figures handed in and imported,
rules, the KPI register, a customer's owner, complaint deadlines), and as time passes
(a month closes, a deadline falls due); and a second question reads the store."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from bot.core.clock import FixedClock
from bot.core.context import AppContext
from bot.core.periods import add_months
from bot.datacall.figures import import_figures
from bot.demo.company import DemoSize, generate
from bot.people.callers import identify
from bot.people.customers import all_customers
from bot.scorecard import answers, stored
from bot.scorecard.answers import overview_answer
from bot.scorecard.book import ScoreBook
from bot.scorecard.events import NewEvent, record_event
from bot.scorecard.kpis import import_kpis
from bot.scorecard.rules import change_rules
from storage.models import (
    ComplaintDeadline,
    Customer,
    FigureSubmission,
    Person,
    ScorecardEvent,
    ScoreInputsVersion,
    StoredScore,
)
from tests.conftest import SHANGHAI

LAST = "2026-09"
MONTHS = [add_months(LAST, -i) for i in range(11, -1, -1)]


def compare(ctx: AppContext) -> int:
    """Stored (or recomputed and stored) headlines against the score book's own, month by month."""
    with ctx.session() as session:
        customers = all_customers(session)
        book = ScoreBook(session, ctx.now(), ctx.tz)
        headlines = stored.monthly_headlines(book, customers, MONTHS)
        fresh = ScoreBook(session, ctx.now(), ctx.tz).monthly(customers, MONTHS)
    assert set(headlines) == set(fresh)
    with ctx.session() as session:  # the overview, remembered while current, equals one made now
        caller = identify(session, "U0QE00001", "zh-CN")
        book = ScoreBook(session, ctx.now(), ctx.tz)
        remembered = overview_answer(session, caller, LAST, None, book)
        made_now = answers._overview(session, caller, LAST, None, ScoreBook(session, ctx.now(), ctx.tz), MONTHS)
    assert (remembered.message, remembered.chart) == (made_now.message, made_now.chart)
    for key, score in fresh.items():
        headline = headlines[key]
        assert (headline.total, headline.grade, headline.provisional, list(headline.kpi_missing)) == (
            score.total, score.grade, score.provisional, score.kpi_missing), key
    return len(fresh)


@pytest.fixture
def company(ctx: AppContext, clock: FixedClock) -> AppContext:
    clock.set(dt.datetime(2026, 10, 9, 10, 0, tzinfo=SHANGHAI))  # September is due, not yet closed
    with ctx.session() as session:
        generate(session, DemoSize(customers=24, months=14), seed=7, now=ctx.now(), tz=SHANGHAI,
                 last_month=dt.date(2026, 9, 1))
    return ctx


def test_stored_scores_equal_fresh_ones_through_random_changes(company: AppContext, clock: FixedClock,
                                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = company
    assert compare(ctx) > 100
    # a second question computes nothing: every headline comes from the store
    calls: list[int] = []
    original = ScoreBook.monthly
    monkeypatch.setattr(ScoreBook, "monthly", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    compare(ctx)
    assert len(calls) == 1  # the comparison's own fresh computation only
    monkeypatch.setattr(ScoreBook, "monthly", original)

    rng = random.Random(11)
    with ctx.session() as session:
        codes = list(all_customers(session).values())
        by = session.scalar(select(Person.id).limit(1))
    for step in range(14):
        kind = step % 7
        with ctx.session() as session:
            customer = session.scalar(select(Customer).where(Customer.code == rng.choice(codes)))
            assert customer is not None
            month = rng.choice(MONTHS)
            day = dt.date(int(month[:4]), int(month[5:]), rng.randint(1, 28))
            if kind == 0:  # an event recorded
                kind_of_event = rng.choice(["production_stop", "late_unnotified", "packaging_nonconformity"])
                record_event(session, NewEvent(customer, day, kind_of_event, rng.randint(1, 3), None, None, None),
                             by, ctx.now(), "slack")
            elif kind == 1:  # an event corrected into another month and customer
                old = session.scalar(select(ScorecardEvent).where(ScorecardEvent.is_current.is_(True)).limit(1)
                                     .offset(rng.randint(0, 20)))
                if old is not None:
                    record_event(session, NewEvent(customer, day, old.event_type, old.count, "corrected", None, None),
                                 by, ctx.now(), "slack", supersedes=old)
            elif kind == 2:  # figures imported
                path = tmp_path / f"figures{step}.csv"
                path.write_text("metric,month,customer,value\n"
                                f"kpi_achievement_rate,{month},{customer.code},{rng.randint(40, 100)}\n"
                                f"on_time_deliveries,{month},{customer.code},{rng.randint(0, 30)}\n",
                                encoding="utf-8")
                assert import_figures(session, path, ctx.now(), by=by).ok
            elif kind == 3:  # the rules change from a month on
                change_rules(session, month, {"monthly_target": str(rng.choice([75, 80, 85])),
                                              "event.production_stop": str(rng.choice([5, 8, 10]))}, ctx.now(), by)
                session.flush()
            elif kind == 4:  # a KPI register for the customer
                path = tmp_path / f"kpis{step}.csv"
                path.write_text("customer,kpi,name_zh,name_en,target,direction\n"
                                f"{customer.code},response_timeliness,响应及时率,Response timeliness,90,higher\n"
                                f"{customer.code},after_sales_ppm,售后PPM,After-sales PPM,50,lower\n",
                                encoding="utf-8")
                assert import_kpis(session, path, month, ctx.now(), by=by).ok
            elif kind == 5:  # the customer loses its owner (its typed KPI rate is no longer asked)
                customer.owner_id = None
            else:  # a figure withdrawn by a bulk statement, deadlines decided in bulk
                session.execute(delete(FigureSubmission).where(FigureSubmission.customer_id == customer.id,
                                                               FigureSubmission.period == month))
                session.execute(update(ComplaintDeadline).where(ComplaintDeadline.state == "open")
                                .values(state="met"))
        compare(ctx)
        if step % 5 == 4:  # time passes: September closes, deadlines fall due
            clock.advance(dt.timedelta(days=rng.choice([1, 3, 10])))
            compare(ctx)
    # time alone changes a score: a KPI figure missing for September, then September closing
    path = tmp_path / "late-kpi.csv"
    path.write_text(f"customer,kpi,name_zh,name_en,target,direction\n{codes[0]},line_ppm,线上PPM,Line PPM,100,lower\n",
                    encoding="utf-8")
    with ctx.session() as session:
        assert import_kpis(session, path, LAST, ctx.now(), by=by).ok
        customer_id = session.scalar(select(Customer.id).where(Customer.code == codes[0]))
    compare(ctx)
    with ctx.session() as session:
        row = session.get(StoredScore, (customer_id, LAST))
        assert row is not None and row.provisional and row.valid_until is not None
    clock.set(dt.datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI))  # October's call opened: September closed
    compare(ctx)
    with ctx.session() as session:
        row = session.get(StoredScore, (customer_id, LAST))
        assert row is not None and not row.provisional


def test_the_jobs_bookkeeping_leaves_stored_scores_current(company: AppContext) -> None:
    """Only inputs make scores stale: the corrective-action job's note of how far it has come
    is a setting, but not one scores read, so the next question still reads the store."""
    from scheduled.jobs import evaluate_scorecard_actions

    ctx = company
    compare(ctx)

    def versions() -> dict[int, int]:
        with ctx.session() as session:
            return dict(session.execute(select(ScoreInputsVersion.customer_id, ScoreInputsVersion.version)).all())

    before = versions()
    for _run in range(2):
        evaluate_scorecard_actions(ctx, ctx.now())
    assert versions() == before
