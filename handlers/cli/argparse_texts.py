"""argparse's own words (usage, options, its errors) in the reader's language: argparse
looks its strings up through a module-level `_` at the moment it prints them, so pointing
that at csatbot's catalogue translates them. Strings a Python version words differently stay
English."""

from __future__ import annotations

import argparse

from bot.core.i18n import N_, Gettext

TEXTS = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("the following arguments are required: %s"),
    N_("unrecognized arguments: %s"),
    N_("%(prog)s: error: %(message)s\n"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("invalid %(type)s value: %(value)r"),
    N_("expected one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("one of the arguments %s is required"),
    N_("not allowed with argument %s"),
    N_("(default: %(default)s)"),
)


def translate_argparse(_: Gettext) -> None:
    argparse._ = _  # type: ignore[attr-defined]
    argparse.ngettext = lambda singular, plural, n: _(singular if n == 1 else plural)  # type: ignore[attr-defined]


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Each option's help ends with its default, in the reader's language."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        said = "%(default)" in text or "default" in text.lower() or "默认" in text
        if said or action.default in (None, False, argparse.SUPPRESS) or not action.option_strings:
            return text
        default = argparse._("(default: %(default)s)")  # type: ignore[attr-defined]
        return f"{text}{default}" if default.startswith("（") else f"{text} {default}".strip()
