"""Acknowledgement benchmark: csatbot beside a bare bolt app, driven by the same clients.

    python bench/ack_bench.py [--database-url URL] [--customers 2000] [--months 24]
                              [--clients 20] [--rounds 4] [--per-round 15] [--workers 2] [--threads 16]
                              [--memory-requests 10000]

Starts, each in its own processes:
  - the bare bolt app (bench/bare_bolt_app.py: slack-bolt + Flask under gunicorn, gthread
    workers × threads, acking only), and
  - `csatbot serve --workers N` on a database holding the demo company at the given size,
    against the Slack Web API emulator (in this process);
then drives both with the same signed requests from `--clients` concurrent clients in
alternating rounds (so drift of the machine is shared): `/csat help`, `/csat customer`,
`/csat overview`, a button (`csat.pick_customer`) and a dialog submission refused with
field errors (which must come in the ack). It prints p50, p95 and p99 of the ack per kind
and the ratio of csatbot's to the bare app's; then, end to end (the signed request to the
last Web API call it causes), `/csat customer` with 1 and with 20 clients and `/csat
overview` with 20; the start-up time of `serve` to a ready /healthz; the resident size of a
worker after the load and after `--memory-requests` more. Not a test: it asserts nothing;
it prints, and writes JSON under bench/results/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import percentile, write_result  # noqa: E402

from bot.core.defaults import seed_defaults  # noqa: E402
from bot.demo.company import DemoSize, generate  # noqa: E402
from bot.people.customers import all_customers  # noqa: E402
from bot.people.directory import import_people  # noqa: E402
from bot.scorecard.stored import refresh  # noqa: E402
from handlers.testing.slack_emulator import BotResponse, SlackEmulator, SlackSender  # noqa: E402
from storage.db import make_engine, make_session_factory, transaction, upgrade_schema  # noqa: E402

SECRET = "8f742231b10e8888abcd0099aa85a5ff"
TZ = ZoneInfo("Asia/Shanghai")
LAST_MONTH = dt.date(2026, 10, 1)
MONTH = "2026-10"
Send = Callable[[SlackSender, str, random.Random], BotResponse]


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"p50_ms": round(statistics.median(ordered) * 1000, 1), "p95_ms": round(percentile(ordered, 0.95) * 1000, 1),
            "p99_ms": round(percentile(ordered, 0.99) * 1000, 1), "n": len(ordered)}


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> float:
    """Seconds until GET /healthz answers 200."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise SystemExit(f"{process.args} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.02)
    raise SystemExit(f"{url} did not become ready")


def worker_rss_kib(master: int) -> list[int]:
    """Resident size of each child process of `master` (the gunicorn workers), from /proc."""
    sizes = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(master) and "VmRSS" in fields:
            sizes.append(int(fields["VmRSS"].split()[0]))
    return sorted(sizes)


def prepare_database(url: str, customers: int, months: int, clients: int) -> tuple[list[str], list[str]]:
    """The demo company, and one quality engineer per client; (customer codes, client user ids)."""
    engine = make_engine(url)
    upgrade_schema(engine)
    users = [f"U0BENCH{n:03d}" for n in range(clients)]
    folder = Path(tempfile.mkdtemp(prefix="csatbot-ack-"))
    (folder / "people.csv").write_text("slack_user_id,name,roles,department,locale\n" + "".join(
        f"{u},测试{n},quality_engineer,质量部,zh-CN\n" for n, u in enumerate(users)), encoding="utf-8")
    with transaction(make_session_factory(engine)) as session:
        seed_defaults(session)
        generate(session, DemoSize(customers, months), seed=1, now=dt.datetime.now(dt.UTC), tz=TZ,
                 last_month=LAST_MONTH)
        assert import_people(session, folder / "people.csv").ok
        codes = list(all_customers(session).values())
    started = time.perf_counter()
    with transaction(make_session_factory(engine)) as session:  # a company that runs csatbot has them stored
        refresh(session, dt.datetime.now(dt.UTC), TZ)
    print(f"scores stored in {time.perf_counter() - started:.1f} s", flush=True)
    engine.dispose()
    return codes, users


class Driver:
    """Sends the same mix of requests to an app from several clients at once."""

    def __init__(self, url: str, emulator: SlackEmulator, users: list[str], codes: list[str],
                 complaint_view: dict[str, object]) -> None:
        self.senders = [SlackSender(url + "/slack/events", SECRET, emulator=emulator) for _ in users]
        self.users, self.codes, self.view = users, codes, complaint_view
        self.kinds: dict[str, Send] = {
            "/csat help": lambda s, u, r: s.command("/csat", "help", u, channel_id="C0QUALITY"),
            "/csat customer": lambda s, u, r: s.command("/csat", f"customer {r.choice(self.codes)} {MONTH}", u,
                                                        channel_id="C0QUALITY"),
            "/csat overview": lambda s, u, r: s.command("/csat", "overview", u, channel_id="C0QUALITY"),
            "button": lambda s, u, r: s.block_action(
                u, "csat.pick_customer", json.dumps({"code": r.choice(self.codes), "period": MONTH}),
                channel_id="C0QUALITY", message_ts="1.1"),
            "dialog (field errors)": lambda s, u, r: s.view_submission(u, self.view, {}),
        }

    def run(self, mix: dict[str, float], per_client: int, seed: int) -> dict[str, list[float]]:
        """Each client sends `per_client` requests drawn from `mix`; ack seconds per kind."""
        samples: dict[str, list[float]] = defaultdict(list)
        lock = threading.Lock()
        barrier = threading.Barrier(len(self.users))
        kinds, weights = list(mix), list(mix.values())
        failures: list[str] = []

        def client(index: int) -> None:
            rng = random.Random(seed * 1000 + index)
            barrier.wait()
            for _ in range(per_client):
                kind = rng.choices(kinds, weights)[0]
                start = time.perf_counter()
                response = self.kinds[kind](self.senders[index], self.users[index], rng)
                took = time.perf_counter() - start
                with lock:
                    samples[kind].append(took)
                    if response.status != 200:
                        failures.append(f"{kind}: {response.status}")

        threads = [threading.Thread(target=client, args=(i,)) for i in range(len(self.users))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            print("non-200 answers:", failures[:5], flush=True)
        return samples


def settle(emulator: SlackEmulator, quiet: float = 0.5, timeout: float = 600) -> None:
    """Wait until csatbot's work after its responses is done: no Web API call for `quiet` s."""
    deadline = time.monotonic() + timeout
    seen = -1
    while time.monotonic() < deadline:
        count = len(emulator.calls)
        if count == seen:
            return
        seen = count
        time.sleep(quiet)


def end_to_end(emulator: SlackEmulator, driver: Driver, words: Callable[[random.Random], str], clients: int,
               per_client: int) -> list[float]:
    """Seconds from a signed command to the last Web API call it causes (its answer through the
    response URL and the chart in the asker's DM), with `clients` asking at once."""
    samples: list[float] = []
    lost: list[str] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        rng = random.Random(index)
        sender, user = driver.senders[index], driver.users[index]
        dm = emulator.workspace.dm_channel(user)
        for _ in range(per_client):
            start = time.monotonic()
            response = sender.command("/csat", words(rng), user, channel_id="C0QUALITY")
            token = response.token
            try:
                answered = emulator.wait_for("response_url", lambda c, token=token: c.args.get("token") == token,
                                             timeout=120)[0].at
            except AssertionError:
                with lock:
                    lost.append(token)
                continue
            try:
                chart = emulator.wait_for("files.completeUploadExternal",
                                          lambda c, start=start: c.args.get("channel_id") == dm and c.at > start,
                                          timeout=30)[0].at
            except AssertionError:  # an answer without a chart (a customer with no scored month)
                chart = answered
            with lock:
                samples.append(max(answered, chart) - start)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if lost or emulator.invalid:
        print(f"answers not delivered through the response URL: {len(lost)}; refused by the emulator:",
              emulator.invalid[:3], flush=True)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary folder")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--per-round", type=int, default=15, help="requests per client per round")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--memory-requests", type=int, default=10000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="csatbot-ack-"))
    url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
    started = time.perf_counter()
    codes, users = prepare_database(url, args.customers, args.months, args.clients)
    results: dict[str, object] = {
        "database": make_engine(url).dialect.name, "customers": args.customers, "months": args.months,
        "clients": args.clients, "workers": args.workers, "threads": args.threads,
        "setup_seconds": round(time.perf_counter() - started, 1), "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    emulator = SlackEmulator().start()
    for user in users:
        emulator.workspace.add_user(user, user, "zh-CN")
    emulator.workspace.add_channel("C0QUALITY", "quality", users)

    env = dict(os.environ, CSATBOT_DATABASE_URL=url, SLACK_BOT_TOKEN="xoxb-bench", SLACK_SIGNING_SECRET=SECRET,
               SLACK_API_URL=emulator.api_url, CSATBOT_QUALITY_CHANNEL="C0QUALITY", CSATBOT_LOCALE="zh-CN")
    processes: list[subprocess.Popen[bytes]] = []

    def start_csatbot(workers: int) -> tuple[subprocess.Popen[bytes], str, float]:
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-c", "from handlers.cli import main; main()", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--workers", str(workers), "--threads", str(args.threads)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(folder / f"csatbot-{port}.log", "wb"))
        processes.append(process)
        return process, f"http://127.0.0.1:{port}", wait_ready(f"http://127.0.0.1:{port}", process)

    try:
        one, one_url, one_ready = start_csatbot(1)
        results["startup_to_healthz_seconds_1_worker"] = round(one_ready, 2)
        one.terminate()
        one.wait(30)
        bot, bot_url, ready = start_csatbot(args.workers)
        results[f"startup_to_healthz_seconds_{args.workers}_workers"] = round(ready, 2)
        bare_port = free_port()
        bare = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", str(args.workers), "--threads",
             str(args.threads), "-b", f"127.0.0.1:{bare_port}", "--log-level", "warning", "bare_bolt_app:flask_app"],
            cwd=ROOT / "bench", env=dict(os.environ, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=emulator.api_url),
            stdout=subprocess.DEVNULL)
        processes.append(bare)
        bare_url = f"http://127.0.0.1:{bare_port}"
        wait_ready(bare_url, bare)

        # a real complaint dialog, to submit empty (every required field refused, in the ack)
        probe = SlackSender(bot_url + "/slack/events", SECRET, emulator=emulator)
        probe.command("/complaint", "", users[0], channel_id="C0QUALITY")
        view = emulator.wait_for("views.open", timeout=60)[0].response["view"]
        settle(emulator)

        drivers = {"bare bolt app": Driver(bare_url, emulator, users, codes, view),
                   "csatbot": Driver(bot_url, emulator, users, codes, view)}
        mix = {"/csat help": 3, "/csat customer": 2, "/csat overview": 0.5, "button": 1.5, "dialog (field errors)": 2}
        drivers["csatbot"].run(mix, 3, seed=99)  # warm both alike
        drivers["bare bolt app"].run(mix, 3, seed=99)
        settle(emulator)
        acks: dict[str, dict[str, list[float]]] = {name: defaultdict(list) for name in drivers}
        for round_number in range(args.rounds):
            for name, driver in drivers.items():
                for kind, samples in driver.run(mix, args.per_round, seed=round_number).items():
                    acks[name][kind].extend(samples)
                if name == "csatbot":
                    settle(emulator)  # its answers are done before the next round of the bare app
        table = {}
        for kind in mix:
            bare_stats, bot_stats = percentiles(acks["bare bolt app"][kind]), percentiles(acks["csatbot"][kind])
            table[kind] = {"bare": bare_stats, "csatbot": bot_stats,
                           "ratio_p50": round(bot_stats["p50_ms"] / max(bare_stats["p50_ms"], 0.01), 2),
                           "ratio_p99": round(bot_stats["p99_ms"] / max(bare_stats["p99_ms"], 0.01), 2)}
            print(f"ack {kind:24} bare p50/p95/p99 {bare_stats['p50_ms']}/{bare_stats['p95_ms']}/"
                  f"{bare_stats['p99_ms']} ms · csatbot {bot_stats['p50_ms']}/{bot_stats['p95_ms']}/"
                  f"{bot_stats['p99_ms']} ms · ratio p99 {table[kind]['ratio_p99']}", flush=True)
        every = [s for samples in acks["csatbot"].values() for s in samples]
        every_bare = [s for samples in acks["bare bolt app"].values() for s in samples]
        table["all kinds"] = {"bare": percentiles(every_bare), "csatbot": percentiles(every)}
        table["all kinds"]["ratio_p99"] = round(
            table["all kinds"]["csatbot"]["p99_ms"] / max(table["all kinds"]["bare"]["p99_ms"], 0.01), 2)
        results["ack"] = table
        print("ack all kinds", table["all kinds"], flush=True)
        results["rss_kib_after_load"] = worker_rss_kib(bot.pid)

        csatbot = drivers["csatbot"]
        for name, words, clients, per_client in (
            ("customer_1_client", lambda r: f"customer {r.choice(codes)} {MONTH}", 1, 30),
            ("customer_20_clients", lambda r: f"customer {r.choice(codes)} {MONTH}", args.clients, 4),
            ("overview_20_clients", lambda r: "overview", args.clients, 2),
        ):
            settle(emulator, quiet=3.0)  # the answers of the last phase done (an overview may be silent for a while)
            emulator.reset_calls()
            results[f"end_to_end_{name}"] = percentiles(end_to_end(emulator, csatbot, words, clients, per_client))
            print(f"end to end {name}", results[f"end_to_end_{name}"], flush=True)

        settle(emulator)
        before = worker_rss_kib(bot.pid)
        cheap = {"/csat help": 5, "dialog (field errors)": 3, "/csat customer": 0.5, "button": 0.5}
        per_client = max(1, args.memory_requests // args.clients)
        for chunk in range(0, per_client, 50):
            csatbot.run(cheap, min(50, per_client - chunk), seed=1000 + chunk)
            settle(emulator, quiet=0.3)
            emulator.reset_calls()
        after = worker_rss_kib(bot.pid)
        results["memory"] = {"rss_kib_before": before, "rss_kib_after": after,
                             "requests": per_client * args.clients,
                             "growth_pct": [round(100 * (a - b) / b, 1) for a, b in zip(after, before, strict=False)]}
        print("memory", results["memory"], flush=True)
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        emulator.stop()
    write_result("ack", str(results["database"]), results)


if __name__ == "__main__":
    main()
