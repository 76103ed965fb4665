"""Every user-facing string exists in zh-CN and en."""

from __future__ import annotations

from babel.messages.pofile import read_po

from bot.core.i18n import catalog_path, gettext_for, normalize_locale
from bot.core.locale_tool import extract


def catalog(locale: str) -> dict[str, str]:
    with open(catalog_path(locale), "rb") as handle:
        return {m.id: m.string for m in read_po(handle) if m.id}


def test_every_marked_string_is_in_both_catalogs() -> None:
    source = set(extract())
    assert source, "extraction found nothing"
    for locale in ("zh-CN", "en"):
        entries = catalog(locale)
        missing = sorted(source - set(entries))
        assert missing == [], f"{locale} lacks {missing[:5]} (run python -m bot.core.locale_tool)"
        untranslated = sorted(m for m in source if not entries.get(m))
        assert untranslated == [], f"{locale} has no translation for {untranslated[:5]}"


def test_chinese_translations_keep_their_placeholders() -> None:
    import re

    for msgid, text in catalog("zh-CN").items():
        assert set(re.findall(r"\{[^}]*\}", msgid)) == set(re.findall(r"\{[^}]*\}", text)), msgid


def test_locale_normalisation_and_lookup() -> None:
    assert normalize_locale("zh_CN") == "zh-CN"
    assert normalize_locale("zh-Hans") == "zh-CN"
    assert normalize_locale("en-GB") == "en"
    assert normalize_locale("fr-FR") == "zh-CN"
    assert normalize_locale(None, default="en") == "en"
    assert gettext_for("zh-CN")("National Day") == "国庆节"
    assert gettext_for("en-US")("National Day") == "National Day"
