"""The `csatbot` command line, one module per part of the procedure; this one assembles
the parser and runs a command."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError

from bot.core.i18n import N_, Gettext, gettext_for
from bot.core.settings import Settings, check, mask_url
from bot.core.texts import UserError
from handlers.bootstrap import SchemaOutOfDate
from handlers.cli import (
    calendar,
    catalogue,
    complaints,
    datacall,
    delivery,
    people,
    reports,
    scorecard,
    setup,
    surveys,
    wecom,
)
from handlers.cli.argparse_texts import DefaultsHelpFormatter, translate_argparse
from handlers.cli.common import ENGINES, err


class Parser(argparse.ArgumentParser):
    """Every command's help lists its options with their defaults (sub-commands inherit it);
    the options many commands share are described once here."""

    translate: Gettext = staticmethod(lambda text: text)  # type: ignore[assignment]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", DefaultsHelpFormatter)
        super().__init__(*args, **kwargs)

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        action = super().add_argument(*args, **kwargs)
        if action.help is None and action.dest in SHARED_HELP:
            action.help = self.translate(SHARED_HELP[action.dest])
        return action


SHARED_HELP = {
    "json": N_("print JSON, with keys rather than names, for scripts"),
    "file": N_("the file to read: CSV or XLSX (Excel)"),
    "limit": N_("show at most this many"),
    "host": N_("the address to listen on"),
    "port": N_("the port to listen on"),
}


def build_parser(_: Gettext) -> argparse.ArgumentParser:
    translate_argparse(_)
    Parser.translate = staticmethod(_)  # type: ignore[assignment]
    parser = Parser(prog="csatbot", description=_("Customer-satisfaction bot for Slack."))
    parser.add_argument("--config", help=_("TOML configuration file (default: $CSATBOT_CONFIG or ./csatbot.toml)"))
    parser.add_argument("-v", "--verbose", action="store_true", help=_("log what csatbot does"))
    parser.add_argument("--debug", action="store_true", help=_("show the full traceback of an error"))
    sub = parser.add_subparsers(dest="command", required=True)
    imports = sub.add_parser("import", help=_("scorecard events and figures from CSV or XLSX")).add_subparsers(
        dest="action", required=True)
    for module in (setup, people, scorecard, catalogue, datacall, complaints, calendar, delivery, reports, surveys,
                   wecom):
        module.add_commands(sub, imports, _)
    return parser


def main(argv: list[str] | None = None) -> int:
    # --help is read before any configuration file: its language comes from the environment
    args = build_parser(gettext_for(os.environ.get("CSATBOT_LOCALE"))).parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.load(config_file=args.config)
    except (OSError, ValueError) as error:  # a missing or malformed TOML file
        err(f"csatbot: {args.config or 'csatbot.toml'}: {error}")
        return 2
    fatal = [p for p in check(settings) if "any" in p.needed_for]
    _ = gettext_for(settings.locale if not any(p.name == "CSATBOT_LOCALE" for p in fatal) else "en")
    if fatal and args.run is not setup.cmd_config_check:
        for problem in fatal:
            err(f"✗ {problem.name}: {problem.message.render(_)}. " + _("Fix: {fix}").format(fix=problem.fix.render(_)))
        return 2
    try:
        return int(args.run(settings, _, args) or 0)
    except SchemaOutOfDate as error:
        err(str(error))
        return 1
    except UserError as error:
        err(error.text.render(_))
        return 1
    except BrokenPipeError:  # `csatbot people list | head`
        return 0
    except (OperationalError, InterfaceError) as error:  # the database is down, refuses us, or is not there
        if args.debug:
            raise
        reason = str(error.orig).strip().splitlines()[0] if error.orig is not None else type(error).__name__
        err("csatbot: " + _("the database at {url} did not answer: {reason}. Check CSATBOT_DATABASE_URL and that "
                            "the server runs and lets this machine in; `--debug` shows the details.").format(
            url=mask_url(settings.database_url), reason=reason))
        return 1
    except Exception as error:  # one line, not a traceback; --debug has it
        if args.debug:
            raise
        err("csatbot: " + _("{command} failed: {kind}: {error}. `--debug` shows the details.").format(
            command=args.command, kind=type(error).__name__, error=str(error).splitlines()[0] if str(error) else ""))
        return 1
    finally:
        while ENGINES:
            ENGINES.pop().dispose()


if __name__ == "__main__":
    sys.exit(main())
