"""Ledger import benchmark: time and SQL statements per row of `csatbot import complaints`.

    python bench/ledger_bench.py [--rows 1000] [--runs 3] [--baseline GIT_DIR_OR_WORKTREE] [--database-url URL]

Writes a ledger of closed complaints with every step's time, then imports it into a fresh
database (first import: every row new) and again (every row unchanged), counting the
statements sent. With --baseline, the same ledger goes through the code in that checkout,
alternating runs so both see the same machine. Not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import summary, write_result  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# runs in a fresh process with the code under test on PYTHONPATH; prints one JSON line
CHILD = r'''
import datetime as dt, json, sys, time
from pathlib import Path
from zoneinfo import ZoneInfo
from sqlalchemy import event
from bot.core.settings import Settings
from handlers.bootstrap import bootstrap
from handlers.cli import main
from bot.complaints.ledger_import import import_complaints
folder = Path(sys.argv[1])
assert main(["db", "upgrade"]) == 0 and main(["customers", "import", str(folder / "customers.csv")]) == 0
ctx = bootstrap(Settings.load())
count = [0]
event.listen(ctx.engine, "before_cursor_execute", lambda *a, **k: count.__setitem__(0, count[0] + 1))
result = {}
for label in ("first", "again"):
    count[0] = 0
    started = time.perf_counter()
    with ctx.session() as session:
        done = import_complaints(session, folder / "ledger.csv", dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
                                 ZoneInfo("Asia/Shanghai"))
    result[label] = {"seconds": time.perf_counter() - started, "statements": count[0],
                     "created": done.created, "unchanged": done.unchanged, "errors": len(done.errors)}
print("RESULT " + json.dumps(result))
'''


def write_ledger(folder: Path, rows: int) -> None:
    (folder / "customers.csv").write_text("code,name_zh,name_en,segment\n" + "".join(
        f"C{i:04d},客户{i},Customer {i},乘用车\n" for i in range(50)), encoding="utf-8")
    lines = ["number,customer,received_at,severity,product_model,batch,symptom,status,first_response_at,"
             "investigated_at,eight_d_at,closed_at,reply"]
    start = dt.datetime(2025, 1, 2, 9, 0)
    for index in range(rows):
        received = start + dt.timedelta(hours=7 * index)

        def at(hours: int, received: dt.datetime = received) -> str:
            return (received + dt.timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M")

        lines.append(f"KS-2025-{index + 1:04d},C{index % 50:04d},{at(0)},一般,DM-{index % 7},B{index},门锁异响,closed,"
                     f"{at(5)},{at(30)},{at(40)},{at(60)},已更换")
    (folder / "ledger.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_once(code_root: Path, folder: Path, url: str | None) -> dict[str, dict[str, float]]:
    database = url or f"sqlite:///{folder / 'run.db'}"
    if url is None and (folder / "run.db").exists():
        (folder / "run.db").unlink()
    env = dict(os.environ, CSATBOT_DATABASE_URL=database, CSATBOT_LOCALE="en", PYTHONPATH=str(code_root))
    done = subprocess.run([sys.executable, "-c", CHILD, str(folder)], env=env, cwd=code_root, capture_output=True,
                          text=True, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])  # type: ignore[no-any-return]


def reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline", help="another checkout of csatbot to compare with, in the same run")
    parser.add_argument("--database-url", help="a PostgreSQL database to empty and use for each run")
    args = parser.parse_args()
    roots = {"this": ROOT} | ({"baseline": Path(args.baseline).resolve()} if args.baseline else {})
    samples: dict[str, dict[str, list[float]]] = {name: {"first": [], "again": []} for name in roots}
    statements: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        write_ledger(folder, args.rows)
        for _run in range(args.runs):
            for name, root in roots.items():  # alternating, so drift is shared
                if args.database_url:
                    reset_postgres(args.database_url)
                measured = run_once(root, folder, args.database_url)
                for label in ("first", "again"):
                    samples[name][label].append(measured[label]["seconds"])
                statements[name] = {label: round(measured[label]["statements"] / args.rows, 1)
                                    for label in ("first", "again")}
    result = {"rows": args.rows, "database": "postgresql" if args.database_url else "sqlite", "code": {}}
    for name in roots:
        result["code"][name] = {label: {**summary(samples[name][label]),
                                        "rows_per_s": round(args.rows / sorted(samples[name][label])[
                                            len(samples[name][label]) // 2]),
                                        "statements_per_row": statements[name][label]}
                                for label in ("first", "again")}
    if args.baseline:
        result["ratio_first_import_median"] = round(result["code"]["this"]["first"]["median_ms"]
                                                    / result["code"]["baseline"]["first"]["median_ms"], 2)
    write_result("ledger", result["database"], result)


if __name__ == "__main__":
    main()
