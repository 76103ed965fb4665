"""WeCom's callback: the crypto against the documentation's own vectors, and forged, stale,
garbled or foreign callbacks refused."""

from __future__ import annotations

import datetime as dt
import json

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


@pytest.fixture
def wecom(settings, clock, sleeps, ctx, people, tmp_path):  # type: ignore[no-untyped-def]
    """The bot with WeCom configured against the emulator, on the test database, and 王静's
    WeCom userid."""
    from dataclasses import replace

    from bot.people.directory import import_people
    from handlers.bootstrap import RunningBot, bootstrap
    from handlers.testing.wecom_emulator import WeComEmulator, WeComSender

    emulator = WeComEmulator(now=lambda: clock.now().timestamp()).start()
    configured = replace(settings, wecom_corp_id=emulator.corp_id, wecom_agent_id="1000002",
                         wecom_secret=emulator.secret, wecom_token="csatbot", wecom_aes_key=KEY,
                         wecom_api_url=emulator.api_url)
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
    sender = WeComSender(server.url + "/wecom/callback", WeComCrypto("csatbot", KEY, emulator.corp_id),
                         emulator.corp_id, "1000002")
    yield emulator, sender, int(clock.now().timestamp()), running
    running.stop()
    emulator.stop()
    context.engine.dispose()


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
