"""WeCom's callback: the crypto against the documentation's own vectors, and forged, stale,
garbled or foreign callbacks refused."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from html.parser import HTMLParser

import pytest

from handlers.wecom.crypto import CryptoError, WeComCrypto

# the sample of WeCom's "验证URL有效性" documentation
TOKEN, AES_KEY, CORP = "QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7"
SIGNATURE, TIMESTAMP, NONCE = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "1409659589", "263014780"
ECHOSTR = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="


def test_the_documentations_url_verification_vector_passes() -> None:
    crypto = WeComCrypto(TOKEN, AES_KEY, CORP)
    crypto.check(SIGNATURE, TIMESTAMP, NONCE, ECHOSTR)
    assert crypto.decrypt(ECHOSTR) == "1616140317555161061"


def test_a_message_round_trips_and_anything_else_is_refused() -> None:
    crypto = WeComCrypto(TOKEN, AES_KEY, CORP)
    sealed = crypto.encrypt("<xml><Content><![CDATA[满意度 客户 ACME]]></Content></xml>")
    assert crypto.decrypt(sealed) == "<xml><Content><![CDATA[满意度 客户 ACME]]></Content></xml>"
    with pytest.raises(CryptoError, match="signature"):
        crypto.check("0" * 40, TIMESTAMP, NONCE, ECHOSTR)
    with pytest.raises(CryptoError, match="stale"):
        crypto.check(SIGNATURE, TIMESTAMP, NONCE, ECHOSTR, now=int(TIMESTAMP) + 301)
    crypto.check(SIGNATURE, TIMESTAMP, NONCE, ECHOSTR, now=int(TIMESTAMP) + 299)
    with pytest.raises(CryptoError, match="another corp"):
        WeComCrypto(TOKEN, AES_KEY, "ww0ther").decrypt(ECHOSTR)
    for garbled in ("not base64!", "", ECHOSTR[:-8] + "AAAAAA==", "QUJD"):
        with pytest.raises(CryptoError):
            crypto.decrypt(garbled)
    with pytest.raises(CryptoError):
        WeComCrypto(TOKEN, "short", CORP)


KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters of base64, as the console gives


@contextlib.contextmanager
def _wecom_bot(settings, clock, sleeps, tmp_path, chats=(), **overrides):  # type: ignore[no-untyped-def]
    """The bot with WeCom configured against the emulator (its group chats `chats`), on the
    test database, and 王静's and Anna's WeCom userids."""
    from dataclasses import replace

    from bot.people.directory import import_people
    from handlers.bootstrap import RunningBot, bootstrap
    from handlers.testing.wecom_emulator import WeComEmulator, WeComSender

    emulator = WeComEmulator(now=lambda: clock.now().timestamp()).start()
    for chat in chats:
        emulator.chats[chat] = {"name": "质量部", "members": ["wangjing", "anna"]}
    configured = replace(settings, wecom_corp_id=emulator.corp_id, wecom_agent_id="1000002",
                         wecom_secret=emulator.secret, wecom_token="csatbot", wecom_aes_key=KEY,
                         wecom_api_url=emulator.api_url, wecom_oauth_url=emulator.oauth_url, **overrides)
    context = bootstrap(configured, clock=clock, sleep=sleeps)
    (tmp_path / "wecom.csv").write_text("slack_user_id,name,roles,locale,wecom_user_id\n"
                                        "U0QE00001,王静,quality_engineer,zh-CN,wangjing\n"
                                        "U0QE00002,Anna Schmidt,quality_engineer,en,anna\n", encoding="utf-8")
    with context.session() as session:
        assert import_people(session, tmp_path / "wecom.csv").ok
        taken = tmp_path / "taken.csv"
        taken.write_text("slack_user_id,name,roles,wecom_user_id\nU0SM00001,李强,sales_manager,anna\n",
                         encoding="utf-8")
        assert "someone else's" in import_people(session, taken).errors[0].message.template
    running = RunningBot(context, scheduler=False)
    server = running.serve_in_background()
    context.settings.public_url = server.url  # where the buttons in WeCom messages lead
    sender = WeComSender(server.url + "/wecom/callback", WeComCrypto("csatbot", KEY, emulator.corp_id),
                         emulator.corp_id, "1000002")
    try:
        yield emulator, sender, int(clock.now().timestamp()), running
    finally:
        running.stop()
        emulator.stop()
        context.engine.dispose()


@pytest.fixture
def wecom(settings, clock, sleeps, ctx, people, tmp_path):  # type: ignore[no-untyped-def]
    with _wecom_bot(settings, clock, sleeps, tmp_path) as running:
        yield running


def test_a_line_typed_in_wecom_is_answered_there_once(wecom) -> None:  # type: ignore[no-untyped-def]
    emulator, sender, now, running = wecom
    assert sender.verify_url(timestamp=now) == (200, b"1616140317555161061")
    assert sender.text("wangjing", "帮助", msg_id="7001", timestamp=now)[0] == 200
    running.executor.wait_idle()
    [help_sent] = emulator.wait_for("message/send")
    assert help_sent.body["touser"] == "wangjing" and help_sent.body["msgtype"] == "markdown"
    assert "/csat customer" in help_sent.body["markdown"]["content"] and "命令" in help_sent.body["markdown"]["content"]
    assert sender.text("wangjing", "帮助", msg_id="7001", timestamp=now)[0] == 200  # WeCom delivers it again
    running.executor.wait_idle()
    assert len(emulator.calls_to("message/send")) == 1
    sender.text("wangjing", "帮助", msg_id="7003", timestamp=now)  # asked again: answered again
    running.executor.wait_idle()
    assert len(emulator.wait_for("message/send", count=2)) == 2 and "enable_duplicate_check" not in help_sent.body
    # the words of /csat, with or without 满意度 before them, in the reader's language
    sender.text("anna", "csat customer ACME", msg_id="7002", timestamp=now)
    running.executor.wait_idle()
    emulator.wait_for("message/send", count=3)
    to_anna = {c.body["msgtype"]: c.body for c in emulator.calls_to("message/send") if c.body["touser"] == "anna"}
    assert "ACME Motors" in to_anna["markdown"]["markdown"]["content"]
    assert to_anna["image"]["image"]["media_id"] == emulator.calls_to("media/upload")[0].answer["media_id"]  # the chart
    assert len(emulator.calls_to("gettoken")) == 1  # the token is shared, not fetched per message


def test_forged_stale_and_foreign_wecom_callbacks_are_refused(wecom) -> None:  # type: ignore[no-untyped-def]
    emulator, sender, now, running = wecom
    assert sender.text("wangjing", "帮助", timestamp=now, signature="0" * 40)[0] == 403
    assert sender.text("wangjing", "帮助", timestamp=now - 301)[0] == 403
    assert sender.text("wangjing", "帮助", timestamp=now,
                       crypto=WeComCrypto("csatbot", KEY, "wwsomeoneelse"))[0] == 403
    assert sender.verify_url(timestamp=now - 3600)[0] == 403
    assert sender.text("wangjing", "帮助", timestamp=now, signature="é" * 40)[0] == 403  # not a 500
    running.executor.wait_idle()
    assert emulator.calls_to("message/send") == [] and emulator.calls_to("gettoken") == []


def test_a_token_wecom_no_longer_takes_is_renewed_once(wecom) -> None:  # type: ignore[no-untyped-def]
    emulator, sender, now, running = wecom
    sender.text("wangjing", "帮助", msg_id="7101", timestamp=now)
    running.executor.wait_idle()
    emulator.wait_for("message/send")
    emulator.revoke_tokens()
    sender.text("wangjing", "help", msg_id="7102", timestamp=now)
    running.executor.wait_idle()
    sent = [c for c in emulator.wait_for("message/send", count=3) if c.answer.get("errcode") == 0]
    assert len(sent) == 2 and len(emulator.calls_to("gettoken")) == 2


def test_opening_the_app_is_its_home_once_a_day(wecom) -> None:  # type: ignore[no-untyped-def]
    emulator, sender, now, running = wecom
    assert sender.enter_agent("wangjing", timestamp=now)[0] == 200
    sender.enter_agent("wangjing", timestamp=now)
    running.executor.wait_idle()
    [home] = emulator.wait_for("message/send")
    assert "王静，您好" in home.body["markdown"]["content"] and "需要你处理" in home.body["markdown"]["content"]
    running.executor.wait_idle()
    assert len(emulator.calls_to("message/send")) == 1


def test_a_person_in_wecom_only_gets_the_monthly_call_there(wecom, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from bot.people.directory import import_customers, import_people
    from bot.people.identities import address_of, person_by_identity
    from scheduled.jobs import run_due
    from storage.models import Customer

    emulator, _sender, _now, running = wecom
    ctx = running.ctx
    only = tmp_path / "wecom-only.csv"
    only.write_text("name,roles,locale,wecom_user_id\n赵磊,finance,zh-CN,zhaolei\n", encoding="utf-8")
    neither = tmp_path / "neither.csv"
    neither.write_text("slack_user_id,name,roles,wecom_user_id\n,钱多,quality_engineer,\n", encoding="utf-8")
    with ctx.session() as session:
        assert import_people(session, only).created == 1
        assert import_people(session, only).updated == 1  # found again by the WeCom userid
        [error] = import_people(session, neither).errors
        assert "both empty" in error.message.template and error.row == 2
        owned = tmp_path / "customers.csv"
        owned.write_text("code,name_zh,name_en,owner_wecom_user_id\nZL01,赵氏机电,Zhao Electric,zhaolei\n",
                         encoding="utf-8")
        assert import_customers(session, owned).created == 1
        him = person_by_identity(session, "wecom", "zhaolei")
        assert him is not None and him.slack_user_id is None and address_of(him) == "wecom:zhaolei"
        assert session.scalar(select(Customer.owner_id).where(Customer.code == "ZL01")) == him.id
    run_due(ctx, ctx.now())
    run_due(ctx, ctx.now())  # a second run sends nothing twice
    running.executor.wait_idle()
    ctx.deliverer.deliver_due(ctx.now())  # delivers before it returns
    to_him = [c for c in emulator.calls_to("message/send") if c.body["touser"] == "zhaolei"]

    assert len(to_him) == 1 and "2026-09" in json.dumps(to_him[0].body, ensure_ascii=False)


def test_no_member_gets_more_than_wecom_takes_in_a_minute(wecom, clock) -> None:  # type: ignore[no-untyped-def]
    """WeCom drops what passes 30 a minute to one member without an error: the rest waits."""
    from bot.core import outbox
    from bot.core.views import Message
    from handlers.wecom.messenger import PER_MEMBER_LIMITS

    emulator, _sender, _now, running = wecom
    ctx = running.ctx
    per_minute = PER_MEMBER_LIMITS[0][1]
    with ctx.session() as session:
        outbox.enqueue_many(session, [outbox.Queued(f"burst:{n}", "dm", "wecom:wangjing", Message(text=f"第 {n} 条"))
                                      for n in range(per_minute + 5)], ctx.now())
    ctx.deliverer.deliver_due(ctx.now())
    ctx.deliverer.deliver_due(ctx.now())
    assert len(emulator.calls_to("message/send")) == per_minute
    clock.advance(dt.timedelta(seconds=61))
    ctx.deliverer.deliver_due(ctx.now())
    texts = [c.body["markdown"]["content"] for c in emulator.calls_to("message/send")]
    assert len(texts) == per_minute + 5 and len(set(texts)) == per_minute + 5  # all of them, each once
    assert emulator.dropped == []  # and WeCom showed every one


class _Page(HTMLParser):
    """A page's form fields (name -> value, as a browser would send them untouched), its
    links and its text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.kinds: dict[str, str] = {}
        self.links: list[str] = []
        self.text: list[str] = []
        self._in: tuple[str, str] | None = None  # the select or textarea being read
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        name = str(found.get("name") or "")
        if tag == "input" and name:
            self.kinds[name] = str(found.get("type") or "text")
            if found.get("type") != "radio" or "checked" in found:
                self.fields[name] = str(found.get("value") or "")
        elif tag in ("select", "textarea") and name:
            self.kinds[name] = tag
            self.fields[name] = ""
            self._in = (tag, name)
        elif tag == "option" and self._in and self._in[0] == "select" and "selected" in found:
            self.fields[self._in[1]] = str(found.get("value") or "")
        elif tag == "a" and found.get("href"):
            self.links.append(str(found["href"]))

    def handle_endtag(self, tag: str) -> None:
        if self._in and tag == self._in[0]:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in and self._in[0] == "textarea":
            self.fields[self._in[1]] += data
        self.text.append(data)

    @property
    def shown(self) -> str:
        return " ".join(self.text)


def _links(call) -> list[str]:  # type: ignore[no-untyped-def]
    """Where a message's buttons lead: a template card's buttons and its own click, or the
    links of a markdown message."""
    import re

    if call.body.get("msgtype") == "template_card":
        card = call.body["template_card"]
        return [b["url"] for b in card["button_list"] if b.get("type") == 1] + [card["card_action"]["url"]]
    return re.findall(r"\]\((http[^)]+)\)", call.body["markdown"]["content"])


def _browser():  # type: ignore[no-untyped-def]
    """WeCom's built-in browser: it keeps cookies and follows redirects."""
    import http.cookiejar
    import urllib.request

    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar)), jar


def _open(opener, url: str, form: dict[str, str] | None = None) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    import urllib.error
    import urllib.parse

    data = urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        with opener.open(url, data=data, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_a_wecom_button_opens_the_figures_form_signed_in_by_wecom(wecom, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The monthly call in WeCom links to csatbot's own page; WeCom's OAuth2 says who opened
    it; the form keeps what was typed under each error and saves the figures once."""

    from sqlalchemy import select

    from bot.people.directory import import_customers, import_people
    from scheduled.jobs import run_due
    from storage.models import FigureSubmission

    emulator, _sender, _now, running = wecom
    ctx = running.ctx
    only = tmp_path / "wecom-only.csv"
    only.write_text("name,roles,locale,wecom_user_id\n赵磊,finance,zh-CN,zhaolei\n", encoding="utf-8")
    owned = tmp_path / "customers.csv"
    owned.write_text("code,name_zh,name_en,owner_wecom_user_id\nZL01,赵氏机电,Zhao Electric,zhaolei\n",
                     encoding="utf-8")
    with ctx.session() as session:
        assert import_people(session, only).created == 1
        assert import_customers(session, owned).created == 1
    run_due(ctx, ctx.now())
    ctx.deliverer.deliver_due(ctx.now())
    [call] = [c for c in emulator.calls_to("message/send") if c.body["touser"] == "zhaolei"]
    assert call.body["msgtype"] == "template_card" and call.answer["response_code"]
    press = next(link for link in _links(call) if "a=figures.open" in link)
    assert press.startswith(ctx.settings.public_url + "/wecom/press?")

    stranger, _ = _browser()  # no WeCom sign-in: nothing opens, nothing is asked of WeCom
    assert _open(stranger, ctx.settings.public_url + "/wecom/form", {"_form": "forged.0"})[0] == 403
    emulator.signed_in = "zhaolei"
    browser, jar = _browser()
    status, html = _open(browser, press)
    assert status == 200 and len(emulator.calls_to("auth/getuserinfo")) == 1
    assert any(cookie.name == "csatbot_wecom" for cookie in jar)
    form = _Page(html)
    numbers = [name for name, kind in form.kinds.items() if kind == "text" and not name.startswith("_")]
    assert numbers and "_form" in form.fields and "2026-09" in form.shown
    wrong = {**form.fields, **{name: "abc" for name in numbers}}
    status, html = _open(browser, ctx.settings.public_url + "/wecom/form", wrong)
    again = _Page(html)
    assert status == 422 and "不是数字" in again.shown
    assert all(again.fields[name] == "abc" for name in numbers)  # what was typed is kept
    tampered = {**wrong, "_form": wrong["_form"][:-1] + ("0" if wrong["_form"][-1] != "0" else "1")}
    assert _open(browser, ctx.settings.public_url + "/wecom/form", tampered)[0] == 403
    right = {**again.fields, **{name: "12" for name in numbers}}
    status, html = _open(browser, ctx.settings.public_url + "/wecom/form", right)
    assert status == 200, html
    assert _open(browser, ctx.settings.public_url + "/wecom/form", right)[0] == 200  # sent twice: saved once
    with ctx.session() as session:
        saved = [(s.metric_key, float(s.value)) for s in session.scalars(select(FigureSubmission))]
    assert saved and len(saved) == len(set(saved)) and {value for _key, value in saved} == {12.0}
    ctx.deliverer.deliver_due(ctx.now())
    emulator.wait_for("message/send", matching=lambda c: c.body["touser"] == "zhaolei"
                      and "已记录" in json.dumps(c.body, ensure_ascii=False))
    # the call's card changes in place (once, with the code its sending gave): what is handed in is not missing
    [changed] = emulator.wait_for("message/update_template_card")
    assert changed.answer["errcode"] == 0 and changed.body["response_code"] == call.answer["response_code"]
    whole = _links(call)[-1]  # the card's own click: the whole message, for the person it was sent to
    status, html = _open(browser, whole)
    assert status == 200 and "2026-09" in _Page(html).shown
    emulator.signed_in = "anna"  # someone else, signed in by WeCom, is not shown it
    assert _open(stranger, whole)[0] == 404


@pytest.fixture
def wecom_group(request, settings, clock, sleeps, ctx, people, tmp_path):  # type: ignore[no-untyped-def]
    """The quality channel as the WeCom group `wrquality`: alone (a company in WeCom only), or
    beside the Slack channel (a company in both)."""
    slack_too = request.param == "beside slack"
    if request.param == "robot":  # a group robot instead of the application group chat
        with _wecom_bot(settings, clock, sleeps, tmp_path, quality_channel="",
                        wecom_quality_webhook="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=robot-key-0001"
                        ) as running:
            running[0].robots["robot-key-0001"] = []
            yield running
        return
    with _wecom_bot(settings, clock, sleeps, tmp_path, chats=("wrquality",), wecom_quality_chat="wrquality",
                    quality_channel=settings.quality_channel if slack_too else "") as running:
        yield running


@pytest.mark.parametrize("wecom_group", ["alone", "beside slack"], indirect=True)
def test_a_complaint_logged_in_wecom_is_posted_in_the_quality_group_once(wecom_group, emulator, request,  # type: ignore[no-untyped-def]
                                                                        clock) -> None:
    """Typed in WeCom, the complaint's form opens from a link, and the card goes to the
    quality group once, however often the form is sent; beside a Slack channel, to each once.
    What is a reply in the card's Slack thread is a message in the group quoting the card,
    and a newer card a new message quoting it too."""

    from sqlalchemy import func, select

    from bot.complaints import card, ledger
    from bot.core.texts import T
    from storage.models import Complaint

    wecom_emulator, sender, now, running = wecom_group
    ctx = running.ctx
    both = request.node.callspec.params["wecom_group"] == "beside slack"
    assert ctx.settings.quality_channel == ("C0QUALITY" if both else "wecom-chat:wrquality")
    sender.text("wangjing", "客诉 ACME 异响 3", msg_id="7301", timestamp=now)
    running.executor.wait_idle()
    [answer] = wecom_emulator.wait_for("message/send")
    shown = answer.body["template_card"]  # a line that opens a form: a card with the form's button
    assert shown["button_list"][0]["text"] == "打开表单" and "表单" in shown["sub_title_text"]
    link = _links(answer)[0]
    wecom_emulator.signed_in = "wangjing"
    browser, _jar = _browser()
    status, html = _open(browser, link)
    form = _Page(html)
    assert status == 200 and form.fields.get("customer") == "ACME" and form.fields.get("quantity") == "3", form.fields
    status, html = _open(browser, ctx.settings.public_url + "/wecom/form", {**form.fields, "severity": "bogus"})
    assert status == 422 and "请从给出的选项中选择" in _Page(html).shown  # a page can send what no menu offers
    status, html = _open(browser, ctx.settings.public_url + "/wecom/form", form.fields)
    assert status == 200, _Page(html).shown
    assert _open(browser, ctx.settings.public_url + "/wecom/form", form.fields)[0] == 200  # sent twice
    ctx.deliverer.deliver_due(ctx.now())
    running.executor.wait_idle()
    with ctx.session() as session:
        assert session.scalar(select(func.count()).select_from(Complaint)) == 1
        number = str(session.scalar(select(Complaint.number)))
    in_group = [c.body["markdown"]["content"] for c in wecom_emulator.wait_for("appchat/send")]
    assert len(in_group) == 1 and number in in_group[0]
    if both:
        emulator.wait_for("chat.postMessage", lambda c: c.args.get("channel") == "C0QUALITY")
    in_slack = [c for c in emulator.calls_to("chat.postMessage") if c.args.get("channel") == "C0QUALITY"]
    assert len(in_slack) == (1 if both else 0)

    with ctx.session() as session:
        card.publish(session, ledger.find(session, number), ctx.settings.quality_channel, ctx.locale, ctx.tz,
                     ctx.now(), T("Containment started."), "line-1")
    ctx.deliverer.deliver_due(ctx.now())
    running.executor.wait_idle()
    in_group = [c.body["markdown"]["content"] for c in wecom_emulator.wait_for("appchat/send", count=3)]
    assert len(in_group) == 3  # the card, its newer version and the line, each once
    assert any(text.startswith("> ↻ ") and number in text.splitlines()[0] for text in in_group[1:]), in_group
    assert any(text.startswith("> ↩ ") and number in text.splitlines()[0] for text in in_group[1:]), in_group
    assert len(emulator.calls_to("chat.postMessage")) >= (2 if both else 0)

    # 18 hours on, 75 % of the first response's 24: the warning, in the group, once, quoting the card
    from scheduled.jobs import run_due

    clock.advance(dt.timedelta(hours=18, minutes=1))
    run_due(ctx, ctx.now())
    run_due(ctx, ctx.now())
    running.executor.wait_idle()

    def warnings() -> list[str]:
        return [c.body["markdown"]["content"] for c in wecom_emulator.calls_to("appchat/send")
                if "首次回复顾客" in c.body.get("markdown", {}).get("content", "")
                and c.body["markdown"]["content"].startswith("> ↩ ")]
    wecom_emulator.wait_for("appchat/send", matching=lambda c: "首次回复顾客" in json.dumps(c.body, ensure_ascii=False)
                            and c.body["markdown"]["content"].startswith("> ↩ "))
    assert len(warnings()) == 1 and number in warnings()[0].splitlines()[0]


def test_the_menu_is_set_from_the_command_line_and_its_entries_answer(wecom, capsys) -> None:  # type: ignore[no-untyped-def]
    """`csatbot wecom menu` sets WeCom's limits-respecting menu in the company's language; a
    click answers as the words it stands for, a form's entry links to the form's page."""
    import argparse

    from bot.core.i18n import gettext_for
    from handlers.cli.wecom import cmd_wecom_chat_create, cmd_wecom_menu
    from handlers.testing.wecom_emulator import menu_problem

    emulator, sender, now, running = wecom
    settings, _ = running.ctx.settings, gettext_for("zh-CN")
    assert cmd_wecom_menu(settings, _, argparse.Namespace(show=False)) == 0
    assert "3" in capsys.readouterr().out
    menu = emulator.menu
    assert menu is not None and menu_problem(menu) == ""
    assert [b["name"] for b in menu["button"]] == ["我的", "填报", "查询"]
    entries = {sub["name"]: sub for button in menu["button"] for sub in button["sub_button"]}
    log_one = entries["登记顾客投诉"]
    assert log_one["type"] == "view" and "/wecom/press?a=conversation.command" in log_one["url"]
    assert entries["未关闭投诉"] == {"type": "click", "name": "未关闭投诉", "key": "客诉 列表 open"}
    sender.click("wangjing", entries["未关闭投诉"]["key"], timestamp=now, created=now)
    sender.click("wangjing", entries["未关闭投诉"]["key"], timestamp=now, created=now)  # delivered again
    sender.click("wangjing", entries["我的待办"]["key"], timestamp=now, created=now)
    running.executor.wait_idle()
    sent = emulator.wait_for("message/send", count=2)
    running.executor.wait_idle()
    assert len(emulator.calls_to("message/send")) == 2
    texts = [c.body["markdown"]["content"] for c in sent]
    assert any("未关闭投诉" in text for text in texts) and any("王静，您好" in text for text in texts)

    assert cmd_wecom_chat_create(settings, _, argparse.Namespace(name="质量部", owner="wangjing",
                                                                 members="anna", chat_id="wrquality")) == 0
    assert "CSATBOT_WECOM_QUALITY_CHAT=wrquality" in capsys.readouterr().out
    assert emulator.chats["wrquality"]["members"] == ["wangjing", "anna"]
    assert cmd_wecom_chat_create(settings, _, argparse.Namespace(name="质量部", owner="wangjing", members="",
                                                                 chat_id="")) == 1


def test_a_company_can_write_to_people_in_both_messengers(settings, clock, sleeps, ctx, people, tmp_path,
                                                          emulator) -> None:  # type: ignore[no-untyped-def]
    """With CSATBOT_DIRECT_MESSAGES=both, a person with both ids gets each message in Slack and
    in WeCom, once in each; a person in Slack only, in Slack."""
    from bot.core import outbox
    from bot.core.views import Message

    with _wecom_bot(settings, clock, sleeps, tmp_path, direct_messages="both") as (wecom_emulator, _s, _n, running):
        bot = running.ctx
        for _twice in range(2):
            with bot.session() as session:
                outbox.enqueue(session, "notice:wang", "dm", "U0QE00001", Message(text="请查看 KS-2026-0001"),
                               bot.now())
                outbox.enqueue(session, "notice:huang", "dm", "U0FI00001", Message(text="请查看数据"), bot.now())
            bot.deliverer.deliver_due(bot.now())
        [in_wecom] = wecom_emulator.wait_for("message/send")
        assert in_wecom.body["touser"] == "wangjing" and "KS-2026-0001" in in_wecom.body["markdown"]["content"]
        in_slack = [c.args["text"] for c in emulator.calls_to("chat.postMessage")]
        assert in_slack.count("请查看 KS-2026-0001") == 1 and in_slack.count("请查看数据") == 1
        assert len(wecom_emulator.calls_to("message/send")) == 1
        with bot.session() as session:  # what reads a subject's keys never meets a copy
            assert outbox.queued_for(session, "notice:") == {"notice:wang", "notice:huang"}
            outbox.update_in_place(session, "notice:wang", "2", "U0QE00001", Message(text="已处理 KS-2026-0001"),
                                   bot.now())
        bot.deliverer.deliver_due(bot.now())
        # the copy changes too: a markdown message in WeCom cannot be edited, so the newer one follows
        newer = wecom_emulator.wait_for("message/send", count=2)[-1]
        assert "已处理" in newer.body["markdown"]["content"] and newer.body["touser"] == "wangjing"


def test_departments_are_read_from_the_wecom_address_book(wecom, capsys) -> None:  # type: ignore[no-untyped-def]
    import argparse

    from sqlalchemy import select

    from bot.core.i18n import gettext_for
    from handlers.cli.wecom import cmd_wecom_sync_people
    from storage.models import Person

    emulator, _sender, _now, running = wecom
    emulator.departments += [(2, "质量部", 1), (3, "销售部", 1)]
    emulator.members = [("wangjing", "王静", [2]), ("anna", "Anna Schmidt", [2]), ("newbie", "新人", [3])]
    settings, _ = running.ctx.settings, gettext_for("en")

    def departments() -> dict[str, str | None]:
        with running.ctx.session() as session:
            return dict(session.execute(select(Person.name, Person.department)).all())

    before = departments()
    assert cmd_wecom_sync_people(settings, _, argparse.Namespace(dry_run=True)) == 0
    assert "Would update the departments of 2 people" in capsys.readouterr().out and departments() == before
    assert cmd_wecom_sync_people(settings, _, argparse.Namespace(dry_run=False)) == 0
    printed = capsys.readouterr().out
    assert "1 WeCom members are not in the people list" in printed and "newbie" in printed
    after = departments()
    assert after["Anna Schmidt"] == "质量部" and after["王静"] == "质量部" and after["李强"] == before["李强"]


@pytest.mark.parametrize("wecom_group", ["alone", "robot"], indirect=True)
def test_a_report_and_an_export_asked_for_in_wecom(wecom_group, request) -> None:  # type: ignore[no-untyped-def]
    """`满意度 报告 month` posts the month's brief in the quality group (its text and its two
    workbooks, the evaluation form and the complaint ledger);
    `满意度 导出 scorecard` sends the workbook to the asker as a WeCom file."""
    emulator, sender, now, running = wecom_group
    sender.text("wangjing", "满意度 报告 month 2026-09", msg_id="7401", timestamp=now)
    sender.text("wangjing", "满意度 导出 scorecard 2026-09", msg_id="7402", timestamp=now)
    running.executor.wait_idle()
    running.ctx.deliverer.deliver_due(running.ctx.now())
    running.executor.wait_idle()
    robot = request.node.callspec.params["wecom_group"] == "robot"
    in_group = emulator.wait_for("webhook/send" if robot else "appchat/send", count=3)
    assert sorted(c.body["msgtype"] for c in in_group) == ["file", "file", "markdown"]
    if robot:  # its files through its own upload, its key the only credential
        assert len(emulator.calls_to("webhook/upload_media")) == 2
        assert all(c.query == {"key": "robot-key-0001"} for c in in_group)
    assert any("2026-09" in c.body.get("markdown", {}).get("content", "") for c in in_group)
    [workbook] = emulator.wait_for("message/send", matching=lambda c: c.body.get("msgtype") == "file")
    assert workbook.body["touser"] == "wangjing"
    assert any(c.query.get("type") == "file" for c in emulator.calls_to("media/upload"))
    told = [json.dumps(c.body, ensure_ascii=False) for c in emulator.calls_to("message/send")]
    assert any("质量" in text and "2026-09" in text for text in told)  # where the brief went


def test_a_wecom_userid_is_one_person_whatever_its_case(wecom, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """WeCom does not tell a userid's case apart: `LiSi` imported, `lisi` imported again and
    `LISI` writing to the app are one person."""
    from bot.people.directory import import_people
    from bot.people.identities import person_by_identity

    emulator, sender, now, running = wecom
    first, again = tmp_path / "first.csv", tmp_path / "again.csv"
    first.write_text("name,roles,locale,wecom_user_id\n李思,quality_engineer,en,LiSi\n", encoding="utf-8")
    again.write_text("name,roles,locale,wecom_user_id\n李思,quality_engineer,en,lisi\n", encoding="utf-8")
    with running.ctx.session() as session:
        assert import_people(session, first).created == 1
        result = import_people(session, again)
        assert result.created == 0 and result.updated == 1
        person = person_by_identity(session, "wecom", "LISI")
        assert person is not None and person.identity("wecom") == "lisi"
    sender.text("LISI", "help", msg_id="7501", timestamp=now)
    running.executor.wait_idle()
    [answer] = emulator.wait_for("message/send")
    assert answer.body["touser"] == "lisi" and "csatbot commands" in answer.body["markdown"]["content"]


def test_links_someone_made_up_do_nothing_by_themselves(wecom) -> None:  # type: ignore[no-untyped-def]
    """A press link csatbot did not sign for the person opening it asks first and runs only
    on a confirmation this page made; a sign-in not started here, a garbled cookie, another
    person's message and a choice the form did not offer are refused, none with a 500."""
    import urllib.parse

    from sqlalchemy import func, select

    from storage.models import RoleDelegation

    emulator, _sender, _now, running = wecom
    base = running.ctx.settings.public_url
    emulator.signed_in = "wangjing"
    browser, jar = _browser()
    made_up = base + "/wecom/press?" + urllib.parse.urlencode(
        {"a": "conversation.command", "v": "csat deputy wecom:anna quality_engineer 2026-10-08 2026-12-31"})
    status, html = _open(browser, made_up)
    asked = _Page(html)
    assert status == 200 and "_t" in asked.fields and "不是 csatbot 发给你的" in asked.shown
    with running.ctx.session() as session:
        assert session.scalar(select(func.count()).select_from(RoleDelegation)) == 0  # nothing ran
    status, html = _open(browser, base + "/wecom/press", {"_t": asked.fields["_t"]})
    assert status == 200  # confirmed: it runs (and the deputy command answers as it would in Slack)
    assert _open(browser, base + "/wecom/press", {"_t": asked.fields["_t"][:-2] + "00"})[0] == 403
    other, _jar = _browser()
    assert _open(other, base + "/wecom/press?a=conversation.command&v=help&code=stolen&state=x")[0] == 403
    garbled, garbled_jar = _browser()
    import http.cookiejar

    host = urllib.parse.urlparse(base).hostname or "127.0.0.1"
    garbled_jar.set_cookie(http.cookiejar.Cookie(0, "csatbot_wecom", "abc.%C3%A9", None, False, host, False, False,
                                                 "/wecom/", True, False, None, True, None, None, {}))
    assert _open(garbled, base + "/wecom/form", {"_form": "x.é"})[0] == 403
    assert _open(browser, base + "/wecom/view?m=complaint%3AKS-2026-0001%3Acard")[0] == 404


@pytest.mark.parametrize("wecom_group", ["robot"], indirect=True)
def test_a_group_robot_is_sent_no_more_than_it_takes(wecom_group, clock) -> None:  # type: ignore[no-untyped-def]
    """A group robot takes 20 messages a minute: csatbot sends 18, the rest a minute later."""
    from bot.core import outbox
    from bot.core.views import Message

    emulator, _sender, _now, running = wecom_group
    ctx = running.ctx
    assert ctx.settings.quality_channel == "wecom-robot:robot-key-0001"
    with ctx.session() as session:
        outbox.enqueue_many(session, [outbox.Queued(f"robot:{n}", "post", ctx.settings.quality_channel,
                                                    Message(text=f"第 {n} 条")) for n in range(22)], ctx.now())
    ctx.deliverer.deliver_due(ctx.now())
    sent = [c for c in emulator.calls_to("webhook/send") if c.answer.get("errcode") == 0]
    assert len(sent) == 18 and not [c for c in emulator.calls_to("webhook/send") if c.answer.get("errcode")]
    clock.advance(dt.timedelta(seconds=61))
    ctx.deliverer.deliver_due(ctx.now())
    texts = [c.body["markdown"]["content"] for c in emulator.calls_to("webhook/send")]
    assert len(texts) == 22 and len(set(texts)) == 22
