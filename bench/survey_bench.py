"""Survey results benchmark: a survey of every contact of every customer, all of them answered.

    python bench/survey_bench.py [--database-url URL] [--customers 2000] [--contacts 5] [--items 25]
                                 [--earlier 1] [--runs 7] [--requests 15]

Builds the demo company at the given size, gives each customer `--contacts` contacts, plans a
quarterly questionnaire of `--items` items (the company template's, repeated with new keys up
to that number) that asks every contact, and fills in every answer (a rating, the importance
where the item asks it, the competitor's rating for a third of them, a comment now and then);
`--earlier` surveys of the same kind and size before it, closed, give the trend something to
compare.
Then times, as median and p95:
  (a) the results use case behind `csatbot survey results ID` (every dimension, the
      importance–performance quadrants, each customer's CSI, the trend, the comments),
  (b) `csatbot survey results ID --json` as the command line runs it in-process (the same
      and the JSON it prints),
  (c) `/csat survey results ID` from the signed request to the last Web API call it causes
      (the card through the response URL and the quadrant chart in the asker's DM), through
      the real bolt App over HTTP against the Slack Web API emulator,
beside one raw SQL scan of the survey's answers joined to their questions (the ratio is the
figure to watch). Not a test: it asserts nothing; it prints, and writes JSON under results/.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import io
import os
import platform
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import TZ, fill_demo_company, summary, timed, write_result  # noqa: E402
from sqlalchemy import delete, insert, select, text  # noqa: E402

from bot.core.clock import SystemClock  # noqa: E402
from bot.core.settings import Settings  # noqa: E402
from bot.surveys import use_cases  # noqa: E402
from bot.surveys.campaigns import template_items  # noqa: E402
from bot.surveys.plans import plan  # noqa: E402
from handlers.bootstrap import RunningBot, bootstrap  # noqa: E402
from handlers.cli import main as csatbot  # noqa: E402
from handlers.testing.slack_emulator import SlackEmulator, SlackSender  # noqa: E402
from storage.db import make_engine, make_session_factory, transaction, upgrade_schema  # noqa: E402
from storage.models import (  # noqa: E402
    Customer,
    CustomerContact,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
)

SECRET = "8f742231b10e8888abcd0099aa85a5ff"
ASKER = "U0DEMOQE1"  # the demo company's first quality engineer
COMMENTS = ("交期需要更稳定", "Packaging could be sturdier", "技术支持响应很快", "价格偏高")


def items_of(session: Any, count: int) -> list[dict[str, Any]]:
    """The company template's items, repeated with new keys until there are `count`."""
    template = template_items(session)
    items = []
    for index in range(count):
        item = dict(template[index % len(template)])
        round_ = index // len(template)
        if round_:
            item["key"] = f"{item['key']}_{round_ + 1}"
            item["text_zh"] = f"{item['text_zh']}（{round_ + 1}）"
            item["text_en"] = f"{item['text_en']} ({round_ + 1})"
        items.append(item)
    return items


def give_contacts(session: Any, per_customer: int, now: dt.datetime) -> None:
    """Exactly `per_customer` active contacts at each customer, in place of the demo's."""
    session.execute(text("UPDATE survey_responses SET invitation_id = NULL"))
    session.execute(delete(SurveyInvitation))  # the demo survey's draw, answered or not, goes with its contacts
    session.execute(delete(CustomerContact))
    rows = [{"customer_id": customer_id, "name": f"联系人{customer_id}-{number}",
             "phone": f"139{customer_id:05d}{number:03d}",
             "email": "", "role": "采购" if number % 2 else "质量", "locale": None, "active": True,
             "created_at": now, "updated_at": now}
            for customer_id in session.scalars(select(Customer.id).where(Customer.active.is_(True)))
            for number in range(per_customer)]
    session.execute(insert(CustomerContact), rows)


def answer_everyone(session: Any, campaign: Any, rng: random.Random, now: dt.datetime) -> int:
    """Every invitation answered: a response each and an answer per item; the count of answers."""
    invitations = list(session.scalars(select(SurveyInvitation).where(SurveyInvitation.campaign_id == campaign.id)
                                       .order_by(SurveyInvitation.id)))
    response_rows = [{"campaign_id": campaign.id, "customer_id": i.customer_id, "invitation_id": i.id,
                      "respondent": i.contact.name if i.contact else None, "channel": "web", "submitted_at": now,
                      "comment": rng.choice(COMMENTS) if rng.random() < 0.05 else None}
                     for i in invitations]
    ids = list(session.scalars(insert(SurveyResponse).returning(SurveyResponse.id, sort_by_parameter_order=True),
                               response_rows))
    leaning = {i.customer_id: rng.gauss(3.6, 0.6) for i in invitations}
    answer_rows = []
    for response_id, invitation in zip(ids, invitations, strict=True):
        for question in campaign.questions:
            rating = min(5, max(1, round(rng.gauss(leaning[invitation.customer_id], 0.8))))
            answer_rows.append({
                "response_id": response_id, "question_id": question.id, "score": Decimal(rating),
                "importance": Decimal(rng.randint(2, 5)) if question.asks_importance else None,
                "competitor": Decimal(min(5, max(1, rating + rng.choice((-1, 0, 0, 1))))) if rng.random() < 0.33
                else None,
                "text": rng.choice(COMMENTS) if rng.random() < 0.01 else None,
            })
    for start in range(0, len(answer_rows), 20000):
        session.execute(insert(SurveyAnswer), answer_rows[start:start + 20000])
    for invitation in invitations:
        invitation.answered_at, invitation.answered_by = now, "web"
    return len(answer_rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary folder")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--contacts", type=int, default=5)
    parser.add_argument("--items", type=int, default=25)
    parser.add_argument("--earlier", type=int, default=1, help="earlier surveys of the same kind and size")
    parser.add_argument("--months", type=int, default=3, help="months of demo history (the results read none)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--requests", type=int, default=15)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="csatbot-survey-"))
    url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
    engine = make_engine(url)
    upgrade_schema(engine)
    factory = make_session_factory(engine)
    started = time.perf_counter()
    fill_demo_company(factory, args.customers, args.months)
    now = dt.datetime.now(dt.UTC)
    today = now.astimezone(TZ).date()
    rng = random.Random(11)
    answers, earlier_ids = 0, []
    with transaction(factory) as session:
        give_contacts(session, args.contacts, now)
        items = items_of(session, args.items)
        for back in range(args.earlier, -1, -1):  # the earlier ones first; the last is the one measured
            opens = today + dt.timedelta(days=7) - dt.timedelta(days=91 * back)
            campaign = plan(session, "quarterly", opens, opens + dt.timedelta(days=14), None, now, items=items,
                            seed=back)
            answers = answer_everyone(session, campaign, rng, now)
            earlier_ids.append(campaign.id)
        survey_id = earlier_ids.pop()
    setup_seconds = time.perf_counter() - started
    results: dict[str, object] = {
        "database": engine.dialect.name, "customers": args.customers, "contacts_per_customer": args.contacts,
        "items": args.items, "answers_in_survey": answers, "earlier_surveys": args.earlier,
        "setup_seconds": round(setup_seconds, 1), "python": platform.python_version(), "machine": platform.machine(),
    }
    print(f"{answers} answers in survey {survey_id}, built in {setup_seconds:.1f} s", flush=True)

    def raw_scan() -> object:
        with engine.connect() as connection:
            return connection.execute(text(
                "SELECT r.customer_id, q.dimension, a.score, a.importance, a.competitor FROM survey_answers a "
                "JOIN survey_responses r ON r.id = a.response_id JOIN survey_questions q ON q.id = a.question_id "
                "WHERE r.campaign_id = :id"), {"id": survey_id}).all()

    settings = Settings(database_url=url, data_dir=str(folder), slack_bot_token="xoxb-bench",
                        slack_signing_secret=SECRET, quality_channel="C0QUALITY", sources={"database_url": "bench"})
    ctx = bootstrap(settings, clock=SystemClock())
    for earlier_id in earlier_ids:
        use_cases.close(ctx, earlier_id)
    setup_seconds = time.perf_counter() - started
    results["setup_seconds"] = round(setup_seconds, 1)
    outcome = use_cases.results(ctx, survey_id)
    results["survey_csi"], results["response_rate"] = outcome["csi"], outcome["response_rate"]

    os.environ.update(CSATBOT_DATABASE_URL=url, CSATBOT_DATA_DIR=str(folder))

    def command_line() -> None:
        with contextlib.redirect_stdout(io.StringIO()):
            status = csatbot(["survey", "results", str(survey_id), "--json"])
        if status:
            raise SystemExit(f"csatbot survey results exited with {status}")

    raw_scan()  # warm caches on both sides alike
    raw = summary(timed(raw_scan, args.runs))
    results["raw_sql_scan_of_the_answers"] = raw
    print("raw_sql_scan_of_the_answers", raw, flush=True)
    for name, function in (("a_results_use_case", lambda: use_cases.results(ctx, survey_id)),
                           ("b_command_line_results_json", command_line)):
        function()
        measured = summary(timed(function, args.runs))
        measured["ratio_to_raw_sql"] = round(measured["median_ms"] / max(raw["median_ms"], 0.001), 1)
        results[name] = measured
        print(name, measured, flush=True)

    # (c) /csat survey results over HTTP, the chart included
    emulator = SlackEmulator().start()
    ctx = bootstrap(dataclasses.replace(settings, slack_api_url=emulator.api_url), clock=SystemClock())
    running = RunningBot(ctx, scheduler=False, lazy_workers=4)
    server = running.serve_in_background(threads=4)
    sender = SlackSender(server.url + "/slack/events", SECRET, emulator=emulator)
    emulator.workspace.add_user(ASKER, "王静", "zh-CN")
    dm = emulator.workspace.dm_channel(ASKER)
    samples, acks = [], []
    for index in range(args.requests + 1):  # the first warms up
        start = time.monotonic()
        reply = sender.command("/csat", f"survey results {survey_id}", ASKER, channel_id="C0QUALITY")
        acked = time.monotonic()
        assert reply.status == 200, reply
        answered = emulator.wait_for("response_url", lambda c, token=reply.token: c.args.get("token") == token,
                                     timeout=60)[0].at
        chart = emulator.wait_for("files.completeUploadExternal",
                                  lambda c, start=start: c.args.get("channel_id") == dm and c.at > start,
                                  timeout=60)[0].at
        if index:
            samples.append(max(answered, chart) - start)
            acks.append(acked - start)
    results["c_slack_survey_results_to_last_web_api_call"] = summary(samples)
    results["c_slack_survey_results_to_last_web_api_call"]["ratio_to_raw_sql"] = round(
        results["c_slack_survey_results_to_last_web_api_call"]["median_ms"] / max(raw["median_ms"], 0.001), 1)
    results["c_slack_ack"] = summary(acks)
    print("c_slack_survey_results_to_last_web_api_call", results["c_slack_survey_results_to_last_web_api_call"],
          flush=True)
    print("c_slack_ack", results["c_slack_ack"], flush=True)
    if emulator.invalid:
        print("refused by the emulator:", emulator.invalid[:3], flush=True)
    running.stop()
    emulator.stop()
    write_result("survey", str(results["database"]), results)


if __name__ == "__main__":
    main()
