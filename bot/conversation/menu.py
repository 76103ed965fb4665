"""The app's menu, for a messenger that has one instead of slash commands (WeCom's 自定义菜单):
each entry is a line of `/csat` or `/complaint` words in the company's language, so a press
does what typing it does; an entry whose line opens a form is marked, for the messenger to
open the form's page instead of sending the words."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.i18n import gettext_for

HOME = "home"  # what I owe and what needs me, as opening the app shows


@dataclass
class MenuEntry:
    label: str
    line: str  # the words it stands for, or HOME
    opens_form: bool = False


@dataclass
class MenuGroup:
    label: str
    entries: list[MenuEntry]


def app_menu(locale: str) -> list[MenuGroup]:
    """Three groups of at most five, as WeCom allows; the words are those `帮助` lists."""
    _ = gettext_for(locale)
    zh = locale.startswith("zh")
    csat, complaint = ("满意度", "客诉") if zh else ("csat", "complaint")

    def words(english: str, chinese: str) -> str:
        return chinese if zh else english

    return [
        MenuGroup(_("Mine"), [
            MenuEntry(_("What I owe"), HOME),
            MenuEntry(_("Figures status"), f"{csat} {words('status', '进度')}"),
            MenuEntry(_("My complaints"), f"{complaint} {words('list mine', '列表 mine')}"),
            MenuEntry(_("Help"), words("help", "帮助")),
        ]),
        MenuGroup(_("Enter"), [
            MenuEntry(_("This month's figures"), f"{csat} {words('figures', '数据')}", opens_form=True),
            MenuEntry(_("Log a complaint"), complaint, opens_form=True),
            MenuEntry(_("Record a revisit"), f"{csat} {words('revisit', '回访')}", opens_form=True),
            MenuEntry(_("New action"), f"{csat} {words('action new', '措施 new')}", opens_form=True),
        ]),
        MenuGroup(_("Look up"), [
            MenuEntry(_("Overview"), f"{csat} {words('overview', '总览')}"),
            MenuEntry(_("Open complaints"), f"{complaint} {words('list open', '列表 open')}"),
            MenuEntry(_("Overdue complaints"), f"{complaint} {words('list overdue', '列表 overdue')}"),
            MenuEntry(_("Open actions"), f"{csat} {words('actions', '措施')}"),
        ]),
    ]
