"""Scorecard benchmark: how long scoring takes next to one raw SQL scan of the same rows.

    python bench/scorecard_bench.py [--database-url URL] [--customers 2000] [--months 24] [--runs 7]

Measures, on a demo company of the given size:
  (a) every customer's monthly score for one month,
  (b) every customer's annual score for one year,
  (c) `/csat customer` from the signed request to the last Web API call (the chart upload),
      through the real bolt App over HTTP against the Slack Web API emulator,
and the chart rendering alone. Each as median and p95, beside the time of one raw SQL scan
of the rows the scores read (the ratio is the figure to watch). Not a test: it asserts
nothing; it prints, and writes JSON next to itself under results/.
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import LAST_MONTH, fill_demo_company, summary, timed, write_result  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bot.core.clock import SystemClock  # noqa: E402
from bot.core.periods import months_of_year
from bot.core.settings import Settings  # noqa: E402
from bot.people.customers import all_customers
from bot.scorecard.book import ScoreBook
from handlers.bootstrap import RunningBot, bootstrap  # noqa: E402
from handlers.testing.slack_emulator import SlackEmulator, SlackSender  # noqa: E402
from storage.db import make_engine, make_session_factory, upgrade_schema  # noqa: E402

SECRET = "8f742231b10e8888abcd0099aa85a5ff"





def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary folder")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="csatbot-bench-"))
    url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
    engine = make_engine(url)
    upgrade_schema(engine)
    factory = make_session_factory(engine)
    started = time.perf_counter()
    fill_demo_company(factory, args.customers, args.months)
    setup_seconds = time.perf_counter() - started
    month = f"{LAST_MONTH.year}-{LAST_MONTH.month:02d}"
    year = LAST_MONTH.year - 1
    results: dict[str, object] = {
        "database": engine.dialect.name, "customers": args.customers, "months": args.months,
        "setup_seconds": round(setup_seconds, 1), "python": platform.python_version(), "machine": platform.machine(),
    }

    def monthly() -> None:
        with factory() as session:
            ScoreBook(session).monthly(all_customers(session), [month])

    def annual() -> None:
        with factory() as session:
            ScoreBook(session).annual(all_customers(session), year)

    def raw_scan(first: str, last: str) -> Callable[[], object]:
        first_day, last_day = f"{first}-01", f"{last}-31"

        def scan() -> object:
            with engine.connect() as connection:
                events = connection.execute(text(
                    "SELECT customer_id, event_type, event_date, count FROM scorecard_events "
                    "WHERE is_current AND event_date BETWEEN :a AND :b"), {"a": first_day, "b": last_day}).all()
                figures = connection.execute(text(
                    "SELECT customer_id, period, metric_key, value FROM figure_submissions WHERE is_current "
                    "AND period BETWEEN :a AND :b AND metric_key IN ('kpi_achievement_rate', "
                    "'customer_scorecard_pct', 'on_time_deliveries', 'late_deliveries')"),
                    {"a": first, "b": last}).all()
                return len(events) + len(figures)

        return scan

    for name, function, baseline in (
        ("a_monthly_all_customers", monthly, raw_scan(month, month)),
        ("b_annual_all_customers", annual, raw_scan(f"{year}-01", f"{year}-12")),
    ):
        function()  # warm caches on both sides alike
        baseline()
        measured, raw = summary(timed(function, args.runs)), summary(timed(baseline, args.runs))
        measured["raw_sql_median_ms"] = raw["median_ms"]
        measured["ratio_to_raw_sql"] = round(measured["median_ms"] / max(raw["median_ms"], 0.001), 1)
        results[name] = measured
        print(name, measured, flush=True)

    # (c) /csat customer over HTTP, chart included
    emulator = SlackEmulator().start()
    settings = Settings(database_url=url, slack_bot_token="xoxb-bench", slack_signing_secret=SECRET,
                        slack_api_url=emulator.api_url, quality_channel="C0QUALITY")
    ctx = bootstrap(settings, clock=SystemClock())
    running = RunningBot(ctx, scheduler=False, lazy_workers=4)
    server = running.serve_in_background(threads=4)
    sender = SlackSender(server.url + "/slack/events", SECRET, emulator=emulator)
    emulator.workspace.add_user("U0DEMOQE1", "王静", "zh-CN")
    rng = random.Random(3)
    with factory() as session:
        codes = list(all_customers(session).values())
    sender.command("/csat", f"customer {codes[0]} {month}", "U0DEMOQE1")  # warm up
    emulator.wait_for("files.completeUploadExternal", count=1, timeout=30)
    request_samples, response_samples = [], []
    for index in range(args.requests):
        code = rng.choice(codes)
        start = time.monotonic()
        reply = sender.command("/csat", f"customer {code} {month}", "U0DEMOQE1")
        answered = time.monotonic()
        assert reply.status == 200, reply
        last = emulator.wait_for("files.completeUploadExternal", count=index + 2, timeout=30)[-1]
        request_samples.append(last.at - start)
        response_samples.append(answered - start)
    results["c_csat_customer_to_last_web_api_call"] = summary(request_samples)
    results["c_csat_customer_http_response"] = summary(response_samples)
    print("c_csat_customer_to_last_web_api_call", results["c_csat_customer_to_last_web_api_call"], flush=True)
    print("c_csat_customer_http_response", results["c_csat_customer_http_response"], flush=True)
    running.stop()
    emulator.stop()

    from bot.core import charts

    bands = [charts.Band("very_satisfied", "非常满意", 90, 100), charts.Band("satisfied", "满意", 80, 90),
             charts.Band("average", "一般", 60, 80), charts.Band("unsatisfied", "不满意", 0, 60)]
    months = [f"{m}" for m in months_of_year(year)] + [f"{year + 1}-01"]
    charts.trend_chart("华东汽车 满意度", months, [90.0] * 13, 80, bands, "目标", "月度得分")
    results["chart_render"] = summary(timed(
        lambda: charts.trend_chart("华东汽车 满意度", months, [rng.uniform(60, 100) for _ in months], 80, bands,
                                   "目标", "月度得分"), args.runs * 3))
    print("chart_render", results["chart_render"], flush=True)
    write_result("scorecard", engine.dialect.name, results)
    ctx.engine.dispose()
    engine.dispose()


if __name__ == "__main__":
    main()
