"""The `csatbot` command line, one module per part of the procedure; this one assembles
the parser and runs a command."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from bot.core.i18n import Gettext, gettext_for
from bot.core.settings import Settings, check
from bot.core.texts import UserError
from handlers.bootstrap import SchemaOutOfDate
from handlers.cli import calendar, catalogue, complaints, datacall, delivery, people, reports, scorecard, setup
from handlers.cli.common import ENGINES, err


def build_parser(_: Gettext) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="csatbot", description=_("Customer-satisfaction bot for Slack."))
    parser.add_argument("--config", help=_("TOML configuration file (default: $CSATBOT_CONFIG or ./csatbot.toml)"))
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    imports = sub.add_parser("import", help=_("scorecard events and figures from CSV or XLSX")).add_subparsers(
        dest="action", required=True)
    for module in (setup, people, scorecard, catalogue, datacall, complaints, calendar, delivery, reports):
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
    finally:
        while ENGINES:
            ENGINES.pop().dispose()


if __name__ == "__main__":
    sys.exit(main())
