"""Neutral views rendered as Block Kit: valid per slack_sdk, user text escaped."""

from __future__ import annotations

import json

from bot.core.views import (
    Actions,
    Button,
    Card,
    Context,
    Divider,
    Field,
    FieldList,
    Form,
    FormField,
    Home,
    Image,
    Mention,
    Message,
    Option,
    Paragraph,
    Table,
    message_from_dict,
    message_to_dict,
)
from handlers.slack.blockkit import escape, form_values, render_form, render_home, render_message, render_table
from handlers.testing.slack_emulator import validate_blocks, validate_message, validate_view

INJECTION = "<!channel> <@U0BOSS001> <https://evil.example|点我> & co"


def sample_card() -> Card:
    return Card(title="客户 ACME 满意度", parts=[
        Paragraph(INJECTION, strong=True),
        Mention("U0QE00001", "请处理 " + INJECTION),
        FieldList([Field(f"字段{i}", INJECTION) for i in range(13)]),
        Table(["客户", "得分"], [["艾克美汽车", "92.5"], ["ACME", "71"]]),
        Actions([Button("确认", "complaint.ack", "KS-2026-0001", "primary"), Button("关闭", "complaint.close")]),
        Image("https://files.example/chart.png", "趋势图", "13 个月趋势"),
        Context(INJECTION),
        Divider(),
    ])


def test_user_text_never_becomes_a_mention_or_link() -> None:
    text, blocks, attachments = render_message(Message(text=INJECTION, cards=[sample_card()]))
    assert validate_message({"blocks": blocks, "attachments": attachments}) == []
    rendered = json.dumps([blocks, attachments], ensure_ascii=False)
    assert "<!channel>" not in rendered and "<@U0BOSS001>" not in rendered and "<https://" not in rendered
    assert "&lt;!channel&gt;" in rendered and "&amp; co" in rendered
    assert "<@U0QE00001>" in rendered  # the bot's own mention stays a mention
    assert text == escape(INJECTION)


def test_fields_are_split_into_sections_of_ten() -> None:
    _text, blocks, _tables = render_message(Message(text="x", cards=[sample_card()]))
    sections = [b for b in blocks if b["type"] == "section" and "fields" in b]
    assert [len(b["fields"]) for b in sections] == [10, 3]


def test_the_first_table_is_a_table_block_and_the_others_are_lines() -> None:
    people = Table(["人员", "状态", "已交"], [["刘洋", "⏰ 逾期", "3/7"], ["<!channel>", "✅", "7/7"]])
    ranking = Table(["#", "客户", "得分"], [["1", "艾克美汽车", "92.5"], ["2", "ACME", "71"]])
    card = Card(title="提交情况", parts=[Paragraph("本月"), people, ranking,
                                        Actions([Button("提醒", "figures.chase")])])
    text, blocks, attachments = render_message(Message(text="提交情况", cards=[card]))
    assert validate_message({"blocks": blocks, "attachments": attachments}) == []
    [attachment] = attachments
    table = next(b for b in attachment["blocks"] if b["type"] == "table")
    assert [c["text"] for c in table["rows"][1]] == ["刘洋", "⏰ 逾期", "3/7"]  # each mark in its own cell
    assert table["rows"][2][0]["text"] == "<!channel>"  # raw text is never parsed as a mention
    assert "刘洋" in attachment["fallback"]
    lines = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert "*1*  ·  客户 艾克美汽车  ·  得分 92.5" in lines[1]
    assert not any("```" in line for line in lines)
    assert any(b["type"] == "actions" for b in blocks)


def test_a_long_table_keeps_its_first_rows_and_says_how_many_are_left() -> None:
    rows = [[f"客户{i}", str(i)] for i in range(150)]
    _text, blocks, attachments = render_message(Message(text="x", cards=[Card("t", [Table(["客户", "得分"], rows)])]))
    table, more = attachments[0]["blocks"]
    assert len(table["rows"]) == 100 and table["rows"][-1][0]["text"] == "客户98"
    assert "+51" in more["elements"][0]["text"]
    assert table["column_settings"] == [{"is_wrapped": True}, {"align": "right"}]
    wide = [["x" * 400, "y" * 400] for _ in range(40)]
    _text, _blocks, attachments = render_message(Message(text="x", cards=[Card("t", [Table(["a", "b"], wide)])]))
    table, more = attachments[0]["blocks"]
    assert sum(len(c["text"]) for r in table["rows"] for c in r) <= 10_000 and "+" in more["elements"][0]["text"]


def test_app_home_writes_tables_as_lines() -> None:
    view = render_home(Home(cards=[Card("t", [Table(["客户", "得分"], [["ACME", "71"]])])]))
    assert validate_view(view) == [] and all(b["type"] != "table" for b in view["blocks"])
    assert "*ACME*  ·  71" in json.dumps(view, ensure_ascii=False)


def test_many_cards_stay_within_the_block_limit() -> None:
    _text, blocks, _tables = render_message(Message(text="x", cards=[sample_card() for _ in range(10)]))
    assert len(blocks) == 50 and validate_blocks(blocks) == []


def test_home_and_forms_are_valid_views() -> None:
    assert validate_view(render_home(Home(cards=[sample_card()]))) == []
    form = Form(kind="figures.submit", title="提交 2026年9月 月度数据（很长的标题会被截断）", submit="提交",
                close="取消",
                intro="请填写 " + INJECTION, fields=[
                    FormField("line_defect_ppm", "车厂上线不良率", "number", hint="PPM，0–1000000", min_value=0,
                              max_value=1_000_000, initial="120"),
                    FormField("note", "备注", "multiline", required=False, max_length=3000),
                    FormField("severity", "严重度", "select", initial="urgent",
                              options=[Option("general", "一般"), Option("urgent", "紧急")]),
                    FormField("received", "接收日期", "date", initial="2026-10-08"),
                    FormField("received_at", "接收时间", "datetime", initial="1791421200"),
                    FormField("photos", "照片", "file", required=False),
                    FormField("owner", "负责人", "user", required=False),
                    FormField("customer", "客户", "customer", initial="ACME", options=[Option("ACME", "艾克美")]),
                ])
    view = render_form(form)
    assert validate_view(view) == []
    assert len(view["title"]["text"]) <= 24
    state = {"values": {
        "line_defect_ppm": {"line_defect_ppm": {"type": "number_input", "value": "95.5"}},
        "severity": {"severity": {"type": "static_select", "selected_option": {"value": "urgent"}}},
        "received": {"received": {"type": "datepicker", "selected_date": "2026-10-08"}},
        "photos": {"photos": {"type": "file_input", "files": []}},
        "customer": {"customer": {"type": "external_select", "selected_option": None}},
    }}
    assert form_values(state) == {"line_defect_ppm": "95.5", "severity": "urgent", "received": "2026-10-08",
                                  "photos": [], "customer": None}


def test_messages_survive_the_outbox_round_trip() -> None:
    message = Message(text="t", cards=[sample_card()])
    assert message_from_dict(json.loads(json.dumps(message_to_dict(message)))) == message


def test_clipping_never_cuts_an_entity_or_drops_a_marker() -> None:
    from handlers.slack.blockkit import SECTION_TEXT_LIMIT, escape_clipped

    text = "a" * (SECTION_TEXT_LIMIT - 3) + "&&&"
    clipped = escape_clipped(text, SECTION_TEXT_LIMIT)
    assert len(clipped) <= SECTION_TEXT_LIMIT and clipped.endswith("…") and not clipped.endswith("&…")
    card = Card(title="t", parts=[Paragraph("<" * 3000, strong=True)])
    _text, blocks, _tables = render_message(Message(text="x", cards=[card]))
    assert blocks[1]["text"]["text"].startswith("*&lt;") and blocks[1]["text"]["text"].endswith("*")
    assert validate_blocks(blocks) == []
    long_table = render_table(Table(["客户", "得分"], [[f"客户{i}", str(i)] for i in range(400)]))
    assert len(long_table) <= SECTION_TEXT_LIMIT and long_table.endswith(tuple("0123456789")) and "… +" in long_table
