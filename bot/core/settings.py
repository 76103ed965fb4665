"""Settings from environment variables, optionally a TOML file, and the check that explains them."""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import tomllib
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.texts import T, Text

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
SUPPORTED_LOCALES = ("zh-CN", "en")

# environment variable -> (settings attribute, TOML key, secret?)
ENVIRONMENT: dict[str, tuple[str, str, bool]] = {
    "CSATBOT_DATABASE_URL": ("database_url", "database_url", False),
    "SLACK_BOT_TOKEN": ("slack_bot_token", "slack_bot_token", True),
    "SLACK_SIGNING_SECRET": ("slack_signing_secret", "slack_signing_secret", True),
    "SLACK_APP_TOKEN": ("slack_app_token", "slack_app_token", True),
    "SLACK_API_URL": ("slack_api_url", "slack_api_url", False),
    "CSATBOT_TIMEZONE": ("timezone", "timezone", False),
    "CSATBOT_LOCALE": ("locale", "locale", False),
    "CSATBOT_QUALITY_CHANNEL": ("quality_channel", "quality_channel", False),
    "CSATBOT_COMMERCIAL_CHANNEL": ("commercial_channel", "commercial_channel", False),
    "CSATBOT_DATA_DIR": ("data_dir", "data_dir", False),
    "CSATBOT_MESSAGES_PER_SECOND": ("messages_per_second", "messages_per_second", False),
    "CSATBOT_RETRY_HOURS": ("retry_hours", "retry_hours", False),
    "SLACK_RESPONSE_URL_HOSTS": ("slack_response_url_hosts", "slack_response_url_hosts", False),
    "CSATBOT_PUBLIC_URL": ("public_url", "public_url", False),
    "WECOM_CORP_ID": ("wecom_corp_id", "wecom_corp_id", False),
    "WECOM_AGENT_ID": ("wecom_agent_id", "wecom_agent_id", False),
    "WECOM_SECRET": ("wecom_secret", "wecom_secret", True),
    "WECOM_TOKEN": ("wecom_token", "wecom_token", True),
    "WECOM_AES_KEY": ("wecom_aes_key", "wecom_aes_key", True),
    "WECOM_API_URL": ("wecom_api_url", "wecom_api_url", False),
    "WECOM_OAUTH_URL": ("wecom_oauth_url", "wecom_oauth_url", False),
    "CSATBOT_WECOM_QUALITY_CHAT": ("wecom_quality_chat", "wecom_quality_chat", False),
    "CSATBOT_WECOM_QUALITY_WEBHOOK": ("wecom_quality_webhook", "wecom_quality_webhook", True),
    "CSATBOT_DIRECT_MESSAGES": ("direct_messages", "direct_messages", False),
}
DEFAULT_WECOM_API_URL = "https://qyapi.weixin.qq.com/cgi-bin/"
DEFAULT_RESPONSE_URL_HOSTS = "hooks.slack.com"


def default_data_dir(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".local" / "share")
    return Path(base) / "csatbot"


@dataclass
class Settings:
    database_url: str = ""
    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_app_token: str = ""
    slack_api_url: str = DEFAULT_SLACK_API_URL
    timezone: str = "Asia/Shanghai"
    locale: str = "zh-CN"
    quality_channel: str = ""
    public_url: str = ""  # where the internet reaches csatbot: the survey links start with it
    commercial_channel: str = ""  # the commercial department's: the complaint statistics go there (003 §5)
    wecom_corp_id: str = ""  # WeCom (企业微信) self-built app: all five set to serve /wecom/callback
    wecom_agent_id: str = ""
    wecom_secret: str = ""
    wecom_token: str = ""
    wecom_aes_key: str = ""
    wecom_api_url: str = DEFAULT_WECOM_API_URL
    # where WeCom signs a person in for csatbot's own pages (its OAuth2); the emulator's in tests
    wecom_oauth_url: str = "https://open.weixin.qq.com/connect/oauth2/authorize"
    # the quality channel as a WeCom group chat (its chatid); beside a Slack channel, both get every post
    wecom_quality_chat: str = ""
    # or a group robot's webhook (its URL, or the key in it) where a company prefers one
    wecom_quality_webhook: str = ""
    # a person with a Slack id and a WeCom userid: written to in Slack ("slack"), or in both ("both")
    direct_messages: str = "slack"
    data_dir: str = ""
    messages_per_second: str = "10"
    retry_hours: str = "72"
    slack_response_url_hosts: str = DEFAULT_RESPONSE_URL_HOSTS
    config_file: str = ""
    sources: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def response_url_allowed(self, url: str) -> bool:
        """The bot answers only through response URLs on Slack's hosts (or the Web API's own
        host, a company proxy or the emulator), over https unless that host says otherwise."""
        parsed = urlsplit(url)
        api = urlsplit(self.api_url)
        hosts = {h.strip().lower() for h in self.slack_response_url_hosts.split(",") if h.strip()}
        if parsed.hostname and api.hostname and parsed.hostname == api.hostname and parsed.port == api.port:
            return parsed.scheme == api.scheme
        return parsed.scheme == "https" and (parsed.hostname or "").lower() in hosts

    @property
    def retry_horizon(self) -> dt.timedelta:
        """How long a message that keeps failing for a passing reason is retried."""
        try:
            hours = float(self.retry_hours)
        except ValueError:
            hours = 72.0
        return dt.timedelta(hours=hours if hours > 0 else 72.0)

    @property
    def api_url(self) -> str:
        return self.slack_api_url if self.slack_api_url.endswith("/") else self.slack_api_url + "/"

    @property
    def wecom_robot_key(self) -> str:
        """The group robot's key: the `key` of its webhook address, or the setting as it is."""
        given = self.wecom_quality_webhook.strip()
        if "?" in given or "/" in given:
            found = urllib.parse.parse_qs(urllib.parse.urlparse(given).query).get("key") or [""]
            given = found[0]
        return given if re.fullmatch(r"[0-9A-Za-z\-]{8,64}", given) else ""

    @property
    def wecom_configured(self) -> bool:
        return all((self.wecom_corp_id, self.wecom_agent_id, self.wecom_secret, self.wecom_token, self.wecom_aes_key))

    @property
    def wecom_base(self) -> str:
        return self.wecom_api_url if self.wecom_api_url.endswith("/") else self.wecom_api_url + "/"

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, config_file: str | None = None) -> Settings:
        """Environment wins over the TOML file (CSATBOT_CONFIG or ./csatbot.toml), which
        wins over the defaults."""
        env = os.environ if env is None else env
        settings = cls()
        path = config_file or env.get("CSATBOT_CONFIG") or ("csatbot.toml" if Path("csatbot.toml").is_file() else "")
        if path:
            settings.config_file = path
            with open(path, "rb") as handle:
                data = tomllib.load(handle)
            for _, (attr, key, _secret) in ENVIRONMENT.items():
                if key in data:
                    setattr(settings, attr, str(data[key]))
                    settings.sources[attr] = path
            settings.extra = {k: v for k, v in data.items() if k not in {v[1] for v in ENVIRONMENT.values()}}
        for name, (attr, _key, _secret) in ENVIRONMENT.items():
            if env.get(name):
                setattr(settings, attr, env[name])
                settings.sources[attr] = name
        if not settings.data_dir:
            settings.data_dir = str(default_data_dir(env))
        if not settings.database_url:
            settings.database_url = "sqlite:///" + str(Path(settings.data_dir) / "csatbot.sqlite3")
            settings.sources.setdefault("database_url", "default")
        return settings


def mask(value: str) -> str:
    if not value:
        return ""
    if len(value) <= 8:
        return "****"
    return value[:5] + "…" + value[-4:]


def mask_url(url: str) -> str:
    return re.sub(r"(://[^:/@]+:)([^@]+)@", r"\1****@", url)


@dataclass
class Problem:
    name: str
    message: Text
    fix: Text
    needed_for: tuple[str, ...] = ("serve", "socket")  # empty: recommended only


def effective(settings: Settings) -> list[tuple[str, str, str]]:
    """(variable, shown value, where it came from), secrets masked."""
    rows = []
    for name, (attr, _key, secret) in ENVIRONMENT.items():
        value = getattr(settings, attr)
        shown = mask(value) if secret else (mask_url(value) if attr == "database_url" else value)
        rows.append((name, shown, settings.sources.get(attr, "default")))
    return rows


FILE_SECTIONS = ("permissions",)  # what a configuration file may hold besides the settings above


def _nearest(typed: str, known: list[str]) -> Text:
    near = difflib.get_close_matches(typed, known, n=1, cutoff=0.5)
    if near:
        return T("Did you mean {near}?", near=near[0])
    return T("Known keys: {known}.", known=", ".join(known))


def file_problems(settings: Settings) -> list[Problem]:
    """Typos in the configuration file: a key csatbot does not know is an error naming the
    nearest one it does (a misspelt setting would otherwise be ignored without a word)."""
    from bot.core.defaults import load_defaults

    problems: list[Problem] = []
    known = sorted({key for _attr, key, _secret in ENVIRONMENT.values()} | set(FILE_SECTIONS))
    for key in settings.extra:
        if key not in known:
            problems.append(Problem(f"{settings.config_file}: {key}", T("is not a setting"), _nearest(key, known),
                                    ("serve", "socket", "any")))
    permissions = settings.extra.get("permissions")
    if permissions is None:
        return problems
    defaults = load_defaults()
    permission_keys = sorted(defaults["permissions"])
    roles = sorted({str(r["key"]) for r in defaults.get("roles", [])} | {"*"})
    if not isinstance(permissions, dict):
        return problems + [Problem(f"{settings.config_file}: permissions", T("is not a table"),
                                   T('Write it as [permissions] with lines like "scorecard.record_event" = '
                                     '["quality_engineer"].'), ("serve", "socket", "any"))]
    for key, allowed in permissions.items():
        name = f"{settings.config_file}: permissions.{key}"
        if key not in permission_keys:
            problems.append(Problem(name, T("is not a permission"), _nearest(key, permission_keys),
                                    ("serve", "socket", "any")))
        elif not isinstance(allowed, list) or not all(isinstance(r, str) for r in allowed):
            problems.append(Problem(name, T("is not a list of roles"), T('For example ["quality_engineer"].'),
                                    ("serve", "socket", "any")))
        else:
            for role in allowed:
                if role not in roles:
                    problems.append(Problem(name, T("{role!r} is not a role", role=role), _nearest(role, roles),
                                            ("serve", "socket", "any")))
    return problems


def check(settings: Settings, socket_mode: bool = False) -> list[Problem]:
    """Every missing or invalid value, with how to fix it."""
    problems: list[Problem] = file_problems(settings)
    if not settings.slack_bot_token:
        problems.append(Problem("SLACK_BOT_TOKEN", T("missing"), T(
            "Create the Slack app from slack/manifest.yml, install it to the workspace and copy the Bot User "
            "OAuth Token (xoxb-…).")))
    elif not settings.slack_bot_token.startswith("xoxb-"):
        problems.append(Problem("SLACK_BOT_TOKEN", T("is not a bot token (it should start with xoxb-)"),
                                T("Copy the Bot User OAuth Token from the app's OAuth & Permissions page.")))
    if not settings.slack_signing_secret:
        if not socket_mode:
            problems.append(Problem("SLACK_SIGNING_SECRET", T("missing"),
                                    T("Copy the Signing Secret from the app's Basic Information page."),
                                    ("serve",)))
    elif not re.fullmatch(r"[0-9a-fA-F]{16,}", settings.slack_signing_secret):
        problems.append(Problem("SLACK_SIGNING_SECRET", T("does not look like a signing secret (hex digits)"),
                                T("Copy the Signing Secret from the app's Basic Information page."), ("serve",)))
    app_token_fix = T("Generate an app-level token with the connections:write scope (Basic Information → "
                      "App-Level Tokens).")
    if settings.slack_app_token and not settings.slack_app_token.startswith("xapp-"):
        problems.append(Problem("SLACK_APP_TOKEN", T("is not an app-level token (it should start with xapp-)"),
                                app_token_fix, ("socket",)))
    elif socket_mode and not settings.slack_app_token:
        problems.append(Problem("SLACK_APP_TOKEN", T("missing"), app_token_fix, ("socket",)))
    wecom = {"WECOM_CORP_ID": settings.wecom_corp_id, "WECOM_AGENT_ID": settings.wecom_agent_id,
             "WECOM_SECRET": settings.wecom_secret, "WECOM_TOKEN": settings.wecom_token,
             "WECOM_AES_KEY": settings.wecom_aes_key}
    if any(wecom.values()):  # WeCom is wanted: all five, or /wecom/callback is not served
        for name, value in wecom.items():
            if not value:
                problems.append(Problem(name, T("missing"), T(
                    "WeCom needs all five of WECOM_CORP_ID, WECOM_AGENT_ID, WECOM_SECRET, WECOM_TOKEN and "
                    "WECOM_AES_KEY (the README's WeCom section says where each is)."), ("serve",)))
        if settings.wecom_aes_key and len(settings.wecom_aes_key) != 43:
            problems.append(Problem("WECOM_AES_KEY", T("is not 43 characters"), T(
                "Copy the EncodingAESKey from the app's callback settings as it is."), ("serve",)))
    if not re.match(r"^https?://", settings.slack_api_url):
        problems.append(Problem("SLACK_API_URL", T("is not an http(s) URL"),
                                T("Leave it unset to use {url}.", url=DEFAULT_SLACK_API_URL)))
    try:
        ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(Problem("CSATBOT_TIMEZONE", T("unknown time zone {value!r}", value=settings.timezone),
                                T("Use an IANA name such as Asia/Shanghai."), ("serve", "socket", "any")))
    if settings.locale not in SUPPORTED_LOCALES:
        problems.append(Problem("CSATBOT_LOCALE", T("unsupported locale {value!r}", value=settings.locale),
                                T("Use zh-CN or en."), ("serve", "socket", "any")))
    if settings.wecom_quality_chat and not re.fullmatch(r"[0-9A-Za-z]{1,32}", settings.wecom_quality_chat):
        problems.append(Problem("CSATBOT_WECOM_QUALITY_CHAT", T("is not a WeCom chat id"), T(
            "Use the chatid `csatbot wecom chat create` printed (letters and digits, at most 32)."), ()))
    if settings.direct_messages not in ("slack", "both"):
        problems.append(Problem("CSATBOT_DIRECT_MESSAGES", T("unknown value {value!r}", value=settings.direct_messages),
                                T("Use slack (people with both ids are written to in Slack) or both."), ()))
    if settings.wecom_quality_chat and settings.wecom_quality_webhook:
        problems.append(Problem("CSATBOT_WECOM_QUALITY_WEBHOOK", T("is set beside CSATBOT_WECOM_QUALITY_CHAT"), T(
            "The quality group is the application group chat or the group robot: set one of the two."), ()))
    elif settings.wecom_quality_webhook and not settings.wecom_robot_key:
        problems.append(Problem("CSATBOT_WECOM_QUALITY_WEBHOOK", T("is not a group robot's webhook"), T(
            "Copy the robot's webhook address (…/cgi-bin/webhook/send?key=…) from the group's robot settings."), ()))
    if not settings.quality_channel and not (settings.wecom_quality_chat or settings.wecom_quality_webhook):
        problems.append(Problem("CSATBOT_QUALITY_CHANNEL", T("missing"), T(
            "Set the ID of the quality channel (C0123ABCD, shown at the bottom of the channel details) and "
            "invite the bot to it. Complaint threads, warnings and reports go there."), ()))
    elif settings.quality_channel and not re.fullmatch(r"[CG][A-Z0-9]{6,}", settings.quality_channel):
        problems.append(Problem("CSATBOT_QUALITY_CHANNEL", T("is not a channel ID"),
                                T("Use the channel ID (C…), not its name."), ()))
    if settings.commercial_channel and not re.fullmatch(r"[CG][A-Z0-9]{6,}", settings.commercial_channel):
        problems.append(Problem("CSATBOT_COMMERCIAL_CHANNEL", T("is not a channel ID"),
                                T("Use the channel ID (C…), not its name."), ()))
    if settings.public_url and not re.match(r"^https?://[^/\s]+", settings.public_url):
        problems.append(Problem("CSATBOT_PUBLIC_URL", T("is not an http(s) URL"), T(
            "The address the internet reaches csatbot at, e.g. https://csat.example.com; survey links start "
            "with it. Leave it unset to send Excel questionnaires only."), ()))
    try:
        if float(settings.messages_per_second) <= 0:
            raise ValueError
    except ValueError:
        problems.append(Problem("CSATBOT_MESSAGES_PER_SECOND", T("is not a positive number"),
                                T("Use the rate your Slack plan allows, e.g. 10."), ("serve", "socket", "any")))
    try:
        if float(settings.retry_hours) <= 0:
            raise ValueError
    except ValueError:
        problems.append(Problem("CSATBOT_RETRY_HOURS", T("is not a positive number"),
                                T("Hours a message is retried while Slack is unreachable, e.g. 72."),
                                ("serve", "socket", "any")))
    if not settings.database_url.split(":", 1)[0].startswith(("sqlite", "postgresql")):
        problems.append(Problem("CSATBOT_DATABASE_URL", T("only sqlite:/// and postgresql+psycopg:// are supported"),
                                T("For example postgresql+psycopg://csatbot:secret@db.example.com/csatbot."),
                                ("serve", "socket", "any")))
    return problems


def setting_names() -> list[str]:
    return [f.name for f in fields(Settings)]
