"""Imports meet the files people really have: other encodings, hostile cells, huge files,
files of nothing but bad rows. Each gets a clear message and imports nothing, or imports
exactly what the file says; the same on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.core import spreadsheets
from bot.core.context import AppContext
from bot.core.i18n import gettext_for
from bot.core.texts import UserError
from bot.people.directory import import_customers, import_people
from handlers.cli import main
from storage.models import Customer, Person

HEADER = "code,name_zh,name_en\n"


def customers_in(ctx: AppContext) -> dict[str, str]:
    with ctx.session() as session:
        return dict(session.execute(select(Customer.code, Customer.name_zh)).all())


def refused(ctx: AppContext, path: Path) -> str:
    with ctx.session() as session, pytest.raises(UserError) as error:
        import_customers(session, path)
    return error.value.text.render(gettext_for("en"))


def test_chinese_encodings_import_as_written(ctx: AppContext, tmp_path: Path) -> None:
    files = {"gb18030": "ACME,艾克米,Acme\nHDQC,恒达汽车（华东）,Hengda\n",
             "big5": "TWMC,台灣汽車製造,Taiwan Motor\n",
             "utf-8-sig": "BOMC,带签名的表,With BOM\n"}
    for encoding, rows in files.items():
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes((HEADER + rows).encode(encoding))
        with ctx.session() as session:
            assert import_customers(session, path).ok, encoding
    assert customers_in(ctx) == {"ACME": "艾克米", "HDQC": "恒达汽车（华东）", "TWMC": "台灣汽車製造",
                                 "BOMC": "带签名的表"}


def test_a_file_in_another_encoding_is_refused_naming_what_was_tried(ctx: AppContext, tmp_path: Path) -> None:
    latin = tmp_path / "latin1.csv"
    latin.write_bytes((HEADER + "MUEL,Müller Türen,Müller GmbH\nJOSE,José,José SA\n").encode("latin-1"))
    message = refused(ctx, latin)
    assert "UTF-8, GB18030, Big5" in message and "CSV UTF-8" in message
    binary = tmp_path / "photo.csv"
    binary.write_bytes(bytes(range(256)) * 64)
    assert "UTF-8" in refused(ctx, binary)
    assert customers_in(ctx) == {}


def test_a_bad_byte_past_the_sample_stops_the_import_at_its_row(ctx: AppContext, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spreadsheets, "SAMPLE_BYTES", 64)
    path = tmp_path / "late.csv"
    path.write_bytes((HEADER + "".join(f"C{i:03d},名称{i},Name {i}\n" for i in range(20))).encode("utf-8")
                     + "LATE,Müller,Late\n".encode("latin-1"))
    message = refused(ctx, path)
    assert "Row 22" in message and "UTF-8" in message
    assert customers_in(ctx) == {}


def test_hostile_cells_are_row_errors_not_tracebacks(ctx: AppContext, tmp_path: Path) -> None:
    path = tmp_path / "hostile.csv"
    path.write_text(HEADER + "NUL1,名\x00称,Na\x00me\n" + f"LONG,{'长' * 201},Long\n", encoding="utf-8")
    with ctx.session() as session:
        result = import_customers(session, path)
    assert [e.row for e in result.errors] == [3]
    assert "name_zh" in result.errors[0].message.render(gettext_for("en"))
    path.write_text(HEADER + "NUL1,名\x00称,Na\x00me\n", encoding="utf-8")
    with ctx.session() as session:
        assert import_customers(session, path).ok
    assert customers_in(ctx) == {"NUL1": "名称"}
    huge = tmp_path / "huge-cell.csv"
    huge.write_text(HEADER + "BIG1,big,ok\n" + f"BIG2,{'x' * 200_000},huge\n", encoding="utf-8")
    assert "Row 3" in refused(ctx, huge)
    people = tmp_path / "people.csv"
    people.write_text("slack_user_id,name,roles,email\n"
                      f"U0LONG001,{'名' * 300},quality_engineer,{'a' * 330}@example.com\n", encoding="utf-8")
    with ctx.session() as session:
        result = import_people(session, people)
        assert {e.row for e in result.errors} == {2} and len(result.errors) == 2
        assert session.scalar(select(Person).where(Person.name.like("名名%"))) is None


def test_a_file_of_bad_rows_reports_the_first_hundred_and_counts_the_rest(
        ctx: AppContext, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "".join(f"C{i},,\n" for i in range(5000)), encoding="utf-8")
    with ctx.session() as session:
        result = import_customers(session, path)
    assert len(result.errors) == spreadsheets.MAX_ROW_ERRORS and result.errors.more == 4900  # type: ignore[attr-defined]
    monkeypatch.setenv("CSATBOT_DATABASE_URL", ctx.settings.database_url)
    monkeypatch.setenv("CSATBOT_LOCALE", "en")
    assert main(["customers", "import", str(path)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 + 100 + 1 and "4900 more errors" in lines[-1]


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(ctx: AppContext, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spreadsheets, "MAX_FILE_BYTES", 1024)
    path = tmp_path / "big.csv"
    path.write_text(HEADER + "".join(f"C{i},名{i},N{i}\n" for i in range(200)), encoding="utf-8")
    assert "imports take files up to" in refused(ctx, path)
    assert customers_in(ctx) == {}


def test_a_bad_byte_is_named_by_the_row_excel_shows(ctx: AppContext, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spreadsheets, "SAMPLE_BYTES", 16)
    path = tmp_path / "multiline.csv"
    path.write_bytes((HEADER + 'A001,"第一行\n第二行\n第三行",Multi\nA002,名,N\n').encode("utf-8")
                     + "A003,Müller,Late\n".encode("latin-1"))
    assert "Row 4" in refused(ctx, path)  # Excel's row 4, though the file's sixth line


def test_import_errors_name_the_row_column_value_and_what_is_allowed(scored: AppContext, tmp_path: Path) -> None:
    from bot.core.spreadsheets import format_errors
    from bot.scorecard.events import import_events

    path = tmp_path / "events.csv"
    path.write_text("客户代码,日期,类型,次数\n"  # the company's own Chinese headings
                    "ACME,2027-02-30,line_hold,1\n"
                    "ACMF,2026-09-01,line_hol,1\n"
                    "ACME,2026/9/3,production_stop,1\n", encoding="utf-8")
    with scored.session() as session:
        result = import_events(session, path, scored.now())
    lines = format_errors(result.errors, gettext_for("en"))
    assert lines[0] == "Row 2: Column date, value '2027-02-30': there is no such day in the calendar."
    assert lines[1].startswith("Row 3: Column customer, value 'ACMF': no customer has this code or name. Allowed:")
    assert "Did you mean 'ACME'?" in lines[1]
    assert "Row 3: Column type, value 'line_hol': not an event type" in lines[2] and "'line_hold'?" in lines[2]
    assert len(lines) == 3  # 2026/9/3 is a date as Excel writes it
    assert "is a folder" in refused(scored, tmp_path)


def test_the_figures_form_round_trips_through_excel(ctx: AppContext, people: None, tmp_path: Path,
                                                    monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    import openpyxl

    monkeypatch.setenv("CSATBOT_DATABASE_URL", ctx.settings.database_url)
    monkeypatch.setenv("CSATBOT_LOCALE", "zh-CN")
    form = tmp_path / "form.xlsx"
    assert main(["import", "figures", "--template", str(form), "--month", "2026-09"]) == 0
    book = openpyxl.load_workbook(form)
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]][:4] == ["metric / 数据项", "month / 月份", "customer / 客户", "value / 数值"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert {r[0] for r in rows} >= {"claim_cost", "kpi_achievement_rate"} and all(r[1] == "2026-09" for r in rows)
    assert any(v.type == "decimal" for v in sheet.data_validations.dataValidation)
    claim = next(i for i, r in enumerate(rows, start=2) if r[0] == "claim_cost")
    sheet.cell(row=claim, column=4, value=88)
    book.save(form)
    capsys.readouterr()
    assert main(["import", "figures", str(form)]) == 0
    said = capsys.readouterr().out
    assert "1 项新增或修改" in said and f"{len(rows) - 1} 项留空" in said


def test_score_names_what_it_prints_and_suggests_a_customer(scored: AppContext, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CSATBOT_DATABASE_URL", scored.settings.database_url)
    monkeypatch.setenv("CSATBOT_LOCALE", "en")
    assert main(["score", "--customer", "艾克", "--month", "2026-09"]) == 1
    assert "did you mean ACME 艾克美汽车 / ACME Motors?" in capsys.readouterr().err
    assert main(["score", "--customer", "ACME", "--month", "2026-09"]) == 0
    printed = capsys.readouterr().out
    assert "Quality performance:" in printed and "quality:" not in printed
    assert "Customer line stop" in printed or "production_stop" not in printed
