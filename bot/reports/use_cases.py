"""`/csat export …`: the procedure's Excel forms, made after the acknowledgement and sent
to the asker's direct messages with the bot through the outbox (a file cannot ride on an
ephemeral answer). The command line writes the same workbooks to a file."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.context import AppContext
from bot.core.i18n import N_
from bot.core.periods import Period, month_end, month_start, months_of_year, parse_period
from bot.core.replies import Reply, Request
from bot.core.texts import T, UserError
from bot.datacall.obligations import last_due_month
from bot.people.customers import find_customer
from bot.reports.analysis import analyse
from bot.reports.brief import brief_key, queue_brief
from bot.reports.complaint_report import complaint_report_key, queue_complaint_report
from bot.reports.indicators import ReportPeriod, indicators, report_period
from bot.reports.ledgers import complaint_ledger_workbook, figures_workbook
from bot.reports.period_report import analysis_key, queue_analysis, review_pack
from bot.reports.period_report import title as report_title
from bot.reports.scorecard_form import scorecard_workbook

USAGE = T("Export a form: /csat export scorecard [YYYY-MM] [customer] · /csat export complaints [YYYY-MM | YYYY] · "
          "/csat export figures [YYYY-MM]")
TITLES = {"scorecard": N_("Customer satisfaction monitoring and evaluation form {period}"),
          "complaints": N_("Complaint ledger {period}"), "figures": N_("Monthly figures {period}")}
FILE_STEMS = {"scorecard": "customer-satisfaction-form", "complaints": "complaint-ledger", "figures": "figures"}
KINDS = {"scorecard": "scorecard", "评价表": "scorecard", "complaints": "complaints", "投诉": "complaints",
         "台账": "complaints", "figures": "figures", "数据": "figures"}


def export_command(ctx: AppContext, request: Request, words: list[str]) -> Reply:
    """`/csat export scorecard|complaints|figures [period] [customer]`."""
    caller = request.caller
    kind = KINDS.get(words[0].lower()) if words else None
    if kind is None:
        raise UserError(USAGE)
    rest = words[1:]
    period = _period(ctx, rest[0]) if rest else None
    if period is not None:
        rest = rest[1:]
    if kind != "complaints" and period is not None and period.month is None:
        raise UserError(USAGE)
    if kind != "scorecard" and rest:
        raise UserError(USAGE)
    if period is not None and period.month:
        month = period.month
    else:  # the month answers default to: the last whose figures were due, not one still coming in
        with ctx.session() as session:
            month = last_due_month(session, ctx.local_today())
    start, end, label = _span(period) if kind == "complaints" else (None, None, month)
    content = make_workbook(ctx, kind, caller.locale or ctx.locale, month, start, end, " ".join(rest))
    title = caller._(TITLES[kind]).format(period=caller._("all") if label == "all" else label)
    with ctx.session() as session:
        outbox.enqueue(session, f"export:{caller.user_id}:{request.key}", "image", caller.user_id, None, ctx.now(),
                       image=content, image_title=title, file_name=f"{FILE_STEMS[kind]}-{label}.xlsx")
    return Reply.text(caller._("📎 {title} is in your direct messages with csatbot.").format(title=title))


def make_workbook(ctx: AppContext, kind: str, locale: str, month: str | None = None, start: dt.date | None = None,
                  end: dt.date | None = None, customer: str = "") -> bytes:
    """One of the forms as an .xlsx: `scorecard` (a month, one customer or all), `complaints`
    (received from `start` to `end`), `figures` (a month)."""
    with ctx.session() as session:
        if kind == "scorecard":
            assert month is not None
            return scorecard_workbook(session, month, locale, ctx.tz, ctx.now(), _customer_ids(session, customer))
        if kind == "complaints":
            return complaint_ledger_workbook(session, start, end, locale, ctx.tz)
        assert month is not None
        return figures_workbook(session, month, locale, ctx.tz)


def _period(ctx: AppContext, word: str) -> Period | None:
    """The word as a month or a year, or None when it is something else (a customer)."""
    try:
        return parse_period(word, ctx.now(), ctx.tz)
    except UserError:
        return None


def _customer_ids(session: Session, query: str) -> list[int] | None:
    """The one customer asked for (all when none is): a near miss names the candidates."""
    if not query:
        return None
    match = find_customer(session, query)
    if match.found is None:
        names = ", ".join(c.code for c in (match.candidates or match.suggestions)[:5])
        raise UserError(T("Unknown customer {value!r}. Did you mean: {names}?", value=query, names=names)
                        if names else T("Unknown customer {value!r}.", value=query))
    return [match.found.id]


def _span(period: Period | None) -> tuple[dt.date | None, dt.date | None, str]:
    """The days a complaint ledger covers: a month, a year, or (nothing asked) every complaint."""
    if period is None:
        return None, None, "all"
    if period.month:
        return month_start(period.month), month_end(period.month), period.month
    assert period.year is not None
    return dt.date(period.year, 1, 1), dt.date(period.year, 12, 31), str(period.year)


def report_numbers(ctx: AppContext, kind: str, period_text: str) -> dict[str, object]:
    """The numbers of a report (`csatbot report … --json`)."""
    period = report_period(kind, period_text)
    with ctx.session() as session:
        return indicators(session, period, ctx.now(), ctx.tz, ctx.local_today())


REPORT_KINDS = {"month": "month", "月": "month", "月度": "month", "quarter": "quarter", "季度": "quarter",
                "year": "year", "年": "year", "年度": "year", "review": "review", "评审": "review",
                "管理评审": "review", "complaints": "complaints", "投诉": "complaints", "客诉": "complaints"}
REPORT_USAGE = T("Reports: /csat report month [YYYY-MM] · quarter [YYYY-Q1…Q4] · year [YYYY] (posted in the quality "
                 "channel) · review [YYYY] (the management-review PDF and workbook, to you) · complaints [YYYY-MM | "
                 "YYYY] (the complaint statistics, to the commercial department's channel)")


def report_command(ctx: AppContext, request: Request, words: list[str]) -> Reply:
    """`/csat report month|quarter|year|review|complaints [period]`: a report posted again
    where it goes on schedule, or the management-review pack sent to the asker."""
    caller = request.caller
    kind = REPORT_KINDS.get(words[0].lower() if words else "month")
    if kind is None or len(words) > 2:
        raise UserError(REPORT_USAGE)
    with ctx.session() as session:
        last_month = last_due_month(session, ctx.local_today())
    asked = f"asked:{caller.user_id}:{request.key}"
    if kind == "complaints":
        return _complaint_report(ctx, request, words[1] if len(words) > 1 else last_month, asked)
    if kind == "month":
        period = _period(ctx, words[1]) if len(words) > 1 else None
        if len(words) > 1 and (period is None or period.month is None):
            raise UserError(T("Give a month: /csat report month [YYYY-MM]"))
        month = period.month if period is not None and period.month else last_month
        channel = _quality_channel(ctx)
        with ctx.session() as session:
            queue_brief(session, month, ctx.now(), ctx.tz, ctx.locale, channel, f"{brief_key(month)}:{asked}")
        return Reply.text(caller._("📊 The brief of {month} is posted in the quality channel.").format(month=month))
    period = report_period(kind, words[1]) if len(words) > 1 else last_complete(kind, last_month)
    if kind == "review":
        return _review_pack(ctx, request, period)
    channel = _quality_channel(ctx)
    with ctx.session() as session:
        analysis = queue_analysis(session, period, ctx.now(), ctx.tz, ctx.locale, channel,
                                  f"{analysis_key(period)}:{asked}")
    return Reply.text(caller._("📊 {title} is posted in the quality channel.").format(
        title=report_title(analysis, caller.locale or ctx.locale)))


def last_complete(kind: str, last_month: str) -> ReportPeriod:
    """The last quarter or year all of whose months' figures were due: the one a report is about."""
    year, month = int(last_month[:4]), int(last_month[5:])
    if kind == "quarter":
        quarter = month // 3
        return report_period(kind, f"{year}-Q{quarter}" if quarter else f"{year - 1}-Q4")
    return report_period(kind, str(year if month == 12 else year - 1))


def _quality_channel(ctx: AppContext) -> str:
    if not ctx.settings.quality_channel:
        raise UserError(T("No quality channel is set (CSATBOT_QUALITY_CHANNEL): the report has nowhere to go."))
    return ctx.settings.quality_channel


def _complaint_report(ctx: AppContext, request: Request, word: str, asked: str) -> Reply:
    caller = request.caller
    period = _period(ctx, word)
    if period is None:
        raise UserError(T("Give a month or a year: /csat report complaints [YYYY-MM | YYYY]"))
    channel = ctx.settings.commercial_channel
    if not channel:
        raise UserError(T("No commercial department channel is set (CSATBOT_COMMERCIAL_CHANNEL): the complaint "
                          "statistics have nowhere to go. /complaint stats shows them to you."))
    label = period.month or str(period.year)
    months = [period.month] if period.month else months_of_year(int(label))
    with ctx.session() as session:
        count = queue_complaint_report(session, months, label, ctx.now(), ctx.tz, ctx.locale, channel,
                                       f"{complaint_report_key(label)}:{asked}")
    return Reply.text(caller._("📊 The complaint statistics of {period} ({n} complaints) are posted in the commercial "
                               "department's channel.").format(period=label, n=count))


def _review_pack(ctx: AppContext, request: Request, period: ReportPeriod) -> Reply:
    """The PDF and its workbook, made after the acknowledgement, in the asker's direct messages."""
    caller = request.caller
    locale = caller.locale or ctx.locale
    pdf, workbook, name = make_report_pack(ctx, period, locale)
    with ctx.session() as session:
        for suffix, content, extension in (("pdf", pdf, "pdf"), ("workbook", workbook, "xlsx")):
            outbox.enqueue(session, f"review:{period.label}:{caller.user_id}:{request.key}:{suffix}", "image",
                           caller.user_id, None, ctx.now(), image=content, image_title=name,
                           file_name=f"management-review-{period.label}.{extension}")
    return Reply.text(caller._("📎 {title}: the PDF and the workbook behind it are in your direct messages with "
                               "csatbot.").format(title=name))


def make_report_pack(ctx: AppContext, period: ReportPeriod, locale: str) -> tuple[bytes, bytes, str]:
    """The printable report of a quarter or a year (the management-review pack), the
    workbook behind it and its title."""
    with ctx.session() as session:
        analysis = analyse(session, period, ctx.now(), ctx.tz, ctx.local_today())
    pdf, workbook = review_pack(analysis, locale, ctx.tz, ctx.now())
    return pdf, workbook, report_title(analysis, locale)
