"""People and customer imports from CSV and XLSX: all or nothing, row-numbered errors, updates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import Workbook

from bot.core.context import AppContext
from bot.core.i18n import gettext_for
from bot.core.spreadsheets import format_errors
from bot.core.texts import UserError
from bot.people.directory import import_customers, import_people, list_customers, list_people
from handlers.cli import main
from tests.conftest import CUSTOMERS_CSV, PEOPLE_CSV


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_people_csv_import_and_reimport_updates(ctx: AppContext, tmp_path: Path) -> None:
    sheet = tmp_path / "people.csv"
    sheet.write_text(PEOPLE_CSV, encoding="utf-8-sig")
    with ctx.session() as session:
        result = import_people(session, sheet)
    assert (result.created, result.updated, result.errors) == (6, 0, [])
    sheet.write_text(PEOPLE_CSV.replace("李强,sales_manager;customer_service", "李强,销售经理"), encoding="utf-8")
    with ctx.session() as session:
        result = import_people(session, sheet)
        assert (result.created, result.updated) == (0, 6)
        people = {p["slack_user_id"]: p for p in list_people(session)}
    assert len(people) == 6
    assert people["U0SM00001"]["roles"] == ["sales_manager"]
    assert people["U0QE00002"]["locale"] == "en"
    assert people["U0FI00001"]["locale"] is None


def test_a_bad_row_imports_nothing_and_names_the_row(ctx: AppContext, tmp_path: Path) -> None:
    sheet = tmp_path / "people.csv"
    sheet.write_text(
        "slack_user_id,name,roles,department,locale,email\n"
        "U0AAAAAA1,好人,quality_engineer,质量部,zh-CN,\n"
        "bad-id,坏人,wizard,质量部,fr,not-an-email\n"
        "U0AAAAAA1,重复,finance,,,\n",
        encoding="utf-8",
    )
    with ctx.session() as session:
        result = import_people(session, sheet)
        assert list_people(session) == []
    assert {e.row for e in result.errors} == {3, 4}
    lines = format_errors(result.errors, gettext_for("zh-CN"))
    assert any(line.startswith("第 3 行") and "wizard" in line for line in lines)
    assert any("第 4 行" in line and "两次" in line for line in lines)
    english = format_errors(result.errors, gettext_for("en"))
    assert any(line.startswith("Row 3:") and "e-mail" in line for line in english)


def test_xlsx_and_gb18030_csv(ctx: AppContext, tmp_path: Path) -> None:
    people = write_xlsx(tmp_path / "people.xlsx", [
        ["slack_user_id", "name", "roles", "department", "locale", "email"],
        ["U0XLSX001", "表格人", "quality_engineer;finance", "质量部", "zh-CN", None],
        [None, None, None, None, None, None],
        ["U0XLSX002", "Sheet Person", "Sales manager", "Sales", "en-US", "sp@example.com"],
    ])
    customers = tmp_path / "customers.csv"
    customers.write_bytes("code,name_zh,name_en,segment,owner_slack_user_id\n007,上海汽车,,OEM,U0XLSX002\n"
                          .encode("gb18030"))
    with ctx.session() as session:
        assert import_people(session, people).ok
        assert import_customers(session, customers).ok
        rows = list_customers(session)
    assert rows[0]["code"] == "007" and rows[0]["name_en"] == "上海汽车"
    assert rows[0]["owner_slack_user_id"] == "U0XLSX002"


def test_customers_need_known_owners_and_unique_codes(ctx: AppContext, tmp_path: Path) -> None:
    sheet = tmp_path / "customers.csv"
    sheet.write_text(CUSTOMERS_CSV + "acme,重复,Dup,,\nNEW,新客户,New,,U0NOBODY1\n", encoding="utf-8")
    with ctx.session() as session:
        result = import_customers(session, sheet)
    rows = {e.row: e.message.template for e in result.errors}
    assert set(rows) == {2, 3, 4, 5}  # no people yet: both owners unknown; then the duplicate and the stranger
    assert "twice" in rows[4]


def test_malformed_files_are_explained(ctx: AppContext, tmp_path: Path) -> None:
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip file")
    missing_column = tmp_path / "people.csv"
    missing_column.write_text("slack_user_id,name\nU0AAAAAA1,x\n", encoding="utf-8")
    with ctx.session() as session:
        with pytest.raises(UserError) as error:
            import_people(session, broken)
        assert "xlsx" in error.value.text.render(gettext_for("en"))
        with pytest.raises(UserError) as error:
            import_people(session, missing_column)
        assert "roles" in error.value.text.render(gettext_for("zh-CN"))
        with pytest.raises(UserError):
            import_people(session, tmp_path / "absent.csv")


def test_cli_import_and_list(settings, tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CSATBOT_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CSATBOT_LOCALE", "zh-CN")
    (tmp_path / "people.csv").write_text(PEOPLE_CSV, encoding="utf-8")
    (tmp_path / "customers.csv").write_text(CUSTOMERS_CSV, encoding="utf-8")
    assert main(["people", "import", str(tmp_path / "people.csv")]) == 0
    assert "新增 6 条" in capsys.readouterr().out
    assert main(["customers", "import", str(tmp_path / "customers.csv")]) == 0
    assert main(["people", "list", "--json"]) == 0
    capsys.readouterr()
    assert main(["customers", "list", "--json"]) == 0
    customers = json.loads(capsys.readouterr().out)
    assert [c["code"] for c in customers] == ["ACME", "HDQC"]
    (tmp_path / "bad.csv").write_text("slack_user_id,name,roles\nU0BAD0001,,quality_engineer\n", encoding="utf-8")
    assert main(["people", "import", str(tmp_path / "bad.csv")]) == 1
    assert "第 2 行" in capsys.readouterr().err
    assert main(["people", "list"]) == 0
    assert "王静" in capsys.readouterr().out
