"""Reports benchmark: the monthly evaluation form for every customer, the complaint ledger
and the month's figures beside the score book's own computation of the month's scores; the
annual report (its numbers, the workbook, the charts) and the management-review pack (the
same with the PDF) beside the score book's annual scores (the ratio is what the report
costs on top of scoring).

    python bench/reports_bench.py [--database-url URL] [--customers 2000] [--months 24] [--runs 3]

Not a test: it asserts nothing; it prints, and writes JSON next to itself under results/.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import LAST_MONTH, fill_demo_company, summary, timed, write_result  # noqa: E402

from bot.core.settings import Settings  # noqa: E402
from bot.people.customers import all_customers  # noqa: E402
from bot.reports.analysis import analyse  # noqa: E402
from bot.reports.indicators import report_period  # noqa: E402
from bot.reports.period_report import analysis_workbook, report_charts  # noqa: E402
from bot.reports.use_cases import make_report_pack, make_workbook  # noqa: E402
from bot.scorecard.book import ScoreBook  # noqa: E402
from handlers.bootstrap import bootstrap  # noqa: E402
from storage.db import make_engine, make_session_factory, upgrade_schema  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary folder")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="csatbot-reports-"))
    url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
    engine = make_engine(url)
    upgrade_schema(engine)
    factory = make_session_factory(engine)
    started = time.perf_counter()
    fill_demo_company(factory, args.customers, args.months)
    engine.dispose()
    ctx = bootstrap(Settings(database_url=url, data_dir=str(folder), sources={"database_url": "bench"}))
    month = f"{LAST_MONTH.year}-{LAST_MONTH.month:02d}"
    results: dict[str, object] = {
        "database": ctx.engine.dialect.name, "customers": args.customers, "months": args.months,
        "setup_seconds": round(time.perf_counter() - started, 1), "python": platform.python_version(),
    }

    def scores() -> None:
        with ctx.session() as session:
            ScoreBook(session, ctx.now(), ctx.tz).monthly(all_customers(session), [month])

    sizes: dict[str, int] = {}

    def form(kind: str, **given: object) -> Callable[[], None]:
        def make() -> None:
            sizes[kind] = len(make_workbook(ctx, kind, "zh-CN", **given))  # type: ignore[arg-type]
        return make

    scores()  # warm caches on both sides alike
    baseline = summary(timed(scores, args.runs))
    results["score_book_monthly_all_customers"] = baseline
    for name, kind, given in (("scorecard_form_all_customers", "scorecard", {"month": month}),
                              ("complaint_ledger_all", "complaints", {}),
                              ("figures_of_the_month", "figures", {"month": month})):
        measured = summary(timed(form(kind, **given), args.runs))
        measured["bytes"] = sizes[kind]
        if kind == "scorecard":
            measured["ratio_to_score_book"] = round(measured["median_ms"] / max(baseline["median_ms"], 0.001), 1)
        results[name] = measured
        print(name, measured, flush=True)
    year = LAST_MONTH.year

    def annual_scores() -> None:
        with ctx.session() as session:
            ScoreBook(session, ctx.now(), ctx.tz).annual(all_customers(session), year)

    def annual_report() -> None:
        with ctx.session() as session:
            analysis = analyse(session, report_period("year", str(year)), ctx.now(), ctx.tz)
        sizes["annual"] = len(analysis_workbook(analysis, "zh-CN", ctx.tz))
        report_charts(analysis, "zh-CN")

    def review() -> None:
        pdf, workbook, _title = make_report_pack(ctx, report_period("review", str(year)), "zh-CN")
        sizes["review"] = len(pdf) + len(workbook)

    annual_scores()
    baseline = summary(timed(annual_scores, args.runs))
    results["score_book_annual_all_customers"] = baseline
    print("score_book_annual_all_customers", baseline, flush=True)
    for name, run, size in (("annual_report", annual_report, "annual"), ("management_review_pack", review, "review")):
        measured = summary(timed(run, args.runs))
        measured["bytes"] = sizes[size]
        measured["ratio_to_score_book"] = round(measured["median_ms"] / max(baseline["median_ms"], 0.001), 1)
        results[name] = measured
        print(name, measured, flush=True)
    write_result("reports", str(results["database"]), results)


if __name__ == "__main__":
    main()
