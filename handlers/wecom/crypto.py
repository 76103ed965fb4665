"""WeCom's callback crypto (加解密方案): SHA-1 signature over the sorted token, timestamp, nonce
and ciphertext; AES-256-CBC with key = base64(EncodingAESKey + "="), IV = the key's first 16
bytes, PKCS#7 padded to 32 bytes; the plaintext is 16 random bytes, a 4-byte big-endian length,
the message, and the receive id (the corp id), which is checked.

Written on `cryptography` rather than taken from wechatpy: wechatpy 1.8.18 (2022) does the
same but checks no timestamp and pins old dependencies; this routine is short and passes the
documentation's vectors (tests/test_wecom.py)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32
MAX_AGE_SECONDS = 300  # a callback older than five minutes is refused (a replay)


class CryptoError(ValueError):
    """A callback that is forged, garbled, or meant for another corp."""


class WeComCrypto:
    def __init__(self, token: str, encoding_aes_key: str, receive_id: str) -> None:
        try:
            self.key = base64.b64decode(encoding_aes_key + "=")
        except (binascii.Error, ValueError) as error:
            raise CryptoError("the EncodingAESKey is not 43 characters of base64") from error
        if len(self.key) != 32:
            raise CryptoError("the EncodingAESKey is not 43 characters of base64")
        self.token = token
        self.receive_id = receive_id

    def signature(self, timestamp: str, nonce: str, encrypted: str) -> str:
        return hashlib.sha1("".join(sorted([self.token, timestamp, nonce, encrypted])).encode()).hexdigest()

    def check(self, signature: str, timestamp: str, nonce: str, encrypted: str, now: float | None = None) -> None:
        """Refuse a wrong signature and, when `now` is given, a timestamp more than five
        minutes away from it."""
        if not hmac.compare_digest(self.signature(timestamp, nonce, encrypted).encode(), (signature or "").encode()):
            raise CryptoError("bad signature")
        if now is not None:
            try:
                age = abs(now - int(timestamp))
            except ValueError as error:
                raise CryptoError("the timestamp is not a number") from error
            if age > MAX_AGE_SECONDS:
                raise CryptoError("the timestamp is stale")

    def decrypt(self, encrypted: str) -> str:
        try:
            data = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError) as error:
            raise CryptoError("the ciphertext is not base64") from error
        if not data or len(data) % 16:
            raise CryptoError("the ciphertext is not whole AES blocks")
        decryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise CryptoError("bad padding")
        plain = plain[:-pad]
        if len(plain) < 20:
            raise CryptoError("too short")
        (length,) = struct.unpack(">I", plain[16:20])
        message, receive_id = plain[20:20 + length], plain[20 + length:]
        if len(message) != length or receive_id.decode("utf-8", "replace") != self.receive_id:
            raise CryptoError("meant for another corp")
        try:
            return message.decode("utf-8")
        except UnicodeDecodeError as error:
            raise CryptoError("the message is not UTF-8") from error

    def encrypt(self, message: str, random: bytes | None = None) -> str:
        body = message.encode("utf-8")
        plain = (random or os.urandom(16)) + struct.pack(">I", len(body)) + body + self.receive_id.encode()
        pad = BLOCK - len(plain) % BLOCK
        plain += bytes([pad]) * pad
        encryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()
