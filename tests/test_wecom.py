"""WeCom's callback: the crypto against the documentation's own vectors, and forged, stale,
garbled or foreign callbacks refused."""

from __future__ import annotations

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
