"""What the demo page downloads: a chart shows as a picture, a form or a report downloads
under its own name and type, and the browser's icon is there."""

from __future__ import annotations

import datetime as dt
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.settings import Settings
from bot.demo.company import DemoSize
from handlers.demo.server import Demo


@pytest.fixture
def demo(database_url: str, tmp_path: Path) -> Iterator[Demo]:
    settings = Settings(database_url=database_url, data_dir=str(tmp_path), locale="zh-CN",
                        sources={"database_url": "test"})
    running = Demo(settings, port=0, size=DemoSize(customers=5, months=2), scheduler=False).start()
    yield running
    running.stop()


def test_reports_download_under_their_name_and_charts_show(demo: Demo) -> None:
    files = demo.emulator.workspace.files
    files["F0PDF"] = {"id": "F0PDF", "name": "management-review-2026.pdf", "content": b"%PDF-1.6 ..."}
    files["F0PNG"] = {"id": "F0PNG", "name": "chart.png", "content": b"\x89PNG..."}
    with urllib.request.urlopen(f"{demo.url}/api/file/F0PDF") as answer:
        assert answer.headers["Content-Type"] == "application/pdf"
        assert "management-review-2026.pdf" in answer.headers["Content-Disposition"]
        assert answer.read() == b"%PDF-1.6 ..."
    with urllib.request.urlopen(f"{demo.url}/api/file/F0PNG") as answer:
        assert answer.headers["Content-Type"] == "image/png" and "Content-Disposition" not in answer.headers
    with urllib.request.urlopen(f"{demo.url}/favicon.ico") as answer:
        assert answer.status == 200 and b"<svg" in answer.read()


def test_the_clock_refuses_a_moment_in_the_past_and_says_why(demo: Demo) -> None:
    import json

    def move(to: str) -> dict:  # type: ignore[type-arg]
        request = urllib.request.Request(f"{demo.url}/api/clock", data=json.dumps({"to": to}).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request) as answer:
            return json.loads(answer.read())  # type: ignore[no-any-return]

    before = demo.clock.now()
    refused = move((before.astimezone(demo.settings.tz) - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    assert refused["refused"] == "past" and refused["ran"] == []
    assert move("next tuesday")["refused"] == "unreadable"
    assert demo.clock.now() - before < dt.timedelta(minutes=5)  # the demo's clock runs on; it did not jump
    later = move((before.astimezone(demo.settings.tz) + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    assert "refused" not in later and demo.clock.now() - before > dt.timedelta(hours=23)
