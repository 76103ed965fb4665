"""What the benchmarks share: median and p95 of samples, and where results are written."""

from __future__ import annotations

import datetime as dt
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")
LAST_MONTH = dt.date(2026, 10, 1)  # the demo company's last month


def percentile(ordered: list[float], share: float) -> float:
    """The nearest-rank percentile of samples already sorted."""
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = percentile(ordered, 0.95)
    return {"median_ms": round(statistics.median(ordered) * 1000, 1), "p95_ms": round(p95 * 1000, 1),
            "runs": len(ordered)}


def timed(function: Callable[[], object], runs: int) -> list[float]:
    """Seconds each of `runs` calls took."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return samples


def fill_demo_company(factory: Any, customers: int, months: int) -> None:
    """The defaults and the demo company of that size, up to LAST_MONTH, in an empty database."""
    from bot.core.defaults import seed_defaults
    from bot.demo.company import DemoSize, generate
    from storage.db import transaction

    with transaction(factory) as session:
        seed_defaults(session)
        generate(session, DemoSize(customers, months), seed=1, now=dt.datetime.now(dt.UTC), tz=TZ,
                 last_month=LAST_MONTH)


def write_result(name: str, database: str, result: dict[str, Any]) -> Path:
    """Print the result and keep it as JSON under bench/results/ (not committed)."""
    print(json.dumps(result, indent=2, ensure_ascii=False))
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    path = out / f"{name}-{database}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return path
