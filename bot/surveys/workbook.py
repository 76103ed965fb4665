"""The survey statistics table (客户满意度调查统计表) as an Excel workbook: a row per
respondent and item, then the dimension summary with its shares, the CSI and the response
rate, and an Excel bar chart of the dimensions, in the reader's language."""

from __future__ import annotations

from openpyxl.chart import BarChart, Reference
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.i18n import N_, gettext_for, pick
from bot.reports import workbook as xl
from bot.surveys.analysis import survey_results
from bot.surveys.campaigns import DIMENSION_NAMES, KIND_NAMES
from bot.surveys.results import rating_score
from storage.models import Customer, SurveyAnswer, SurveyCampaign, SurveyQuestion, SurveyResponse

PERCENT = "0%"


def statistics_workbook(session: Session, campaign: SurveyCampaign, locale: str) -> bytes:
    _ = gettext_for(locale)
    results = survey_results(session, campaign)
    book = xl.new_workbook()
    taken: set[str] = set()
    answers = xl.add_sheet(book, xl.sheet_name(_("Answers"), taken))
    titles = [_("Customer code"), _("Customer"), _("Respondent"), _("Dimension"), _("Item"), _("Rating"),
              _("Score"), _("Importance"), _("Competitor"), _("Comment")]
    xl.header(answers, 1, titles)
    xl.widths(answers, [12, 24, 16, 14, 40, 8, 8, 10, 10, 40])
    rows = session.execute(
        select(Customer, SurveyResponse.respondent, SurveyQuestion, SurveyAnswer)
        .join(SurveyResponse, SurveyResponse.customer_id == Customer.id)
        .join(SurveyAnswer, SurveyAnswer.response_id == SurveyResponse.id)
        .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
        .where(SurveyResponse.campaign_id == campaign.id)
        .order_by(Customer.code, SurveyResponse.respondent, SurveyQuestion.position)).all()
    for index, (customer, respondent, question, answer) in enumerate(rows, start=2):
        xl.text(answers, index, 1, customer.code)
        xl.text(answers, index, 2, pick(locale, customer.name_zh, customer.name_en))
        xl.text(answers, index, 3, respondent)
        xl.text(answers, index, 4, _(DIMENSION_NAMES.get(question.dimension, question.dimension)))
        xl.text(answers, index, 5, pick(locale, question.text_zh, question.text_en), wrap=True)
        xl.number(answers, index, 6, answer.score, "0")
        xl.number(answers, index, 7, None if answer.score is None else rating_score(float(answer.score)))
        xl.number(answers, index, 8, answer.importance, "0")
        xl.number(answers, index, 9, answer.competitor, "0")
        xl.text(answers, index, 10, answer.text, wrap=True)
    summary = xl.add_sheet(book, xl.sheet_name(_("Summary"), taken))
    kind = _(KIND_NAMES.get(campaign.kind, campaign.kind))
    xl.text(summary, 1, 1, _("Survey {id} · {kind} · {opens} – {closes}").format(
        id=campaign.id, kind=kind, opens=campaign.opens_on.isoformat(), closes=campaign.closes_on.isoformat()),
        bold=True)
    xl.text(summary, 2, 1, _("CSI"), bold=True)
    xl.number(summary, 2, 2, results["csi"])
    xl.text(summary, 3, 1, _("Response rate"), bold=True)
    xl.number(summary, 3, 2, results["response_rate"], PERCENT)
    xl.header(summary, 5, [_("Dimension"), _("Score"), _("Importance"), _("Satisfied"), _("Somewhat unsatisfied"),
                           _("Unsatisfied"), _("Competitor"), _("Against the competitor")], freeze=False,
              filters=False)
    xl.widths(summary, [20, 10, 12, 12, 14, 12, 12, 14])
    for index, d in enumerate(results["dimensions"], start=6):
        xl.text(summary, index, 1, _(DIMENSION_NAMES.get(d["key"], d["key"])), box=True)
        xl.number(summary, index, 2, d["score"], box=True)
        xl.number(summary, index, 3, d["importance"], "0.00", box=True)
        for column, key in ((4, "satisfied"), (5, "somewhat"), (6, "unsatisfied")):
            xl.number(summary, index, column, d[key], PERCENT, box=True)
        xl.number(summary, index, 7, d["competitor"], box=True)
        xl.number(summary, index, 8, d["gap_to_competitor"], box=True)
    if results["comments"]:
        notes = xl.add_sheet(book, xl.sheet_name(_("Comments"), taken))
        xl.header(notes, 1, [_("Dimension"), _("Customer code"), _("Comment")])
        xl.widths(notes, [18, 14, 80])
        for index, comment in enumerate(sorted(results["comments"], key=lambda c: c["dimension"]), start=2):
            xl.text(notes, index, 1, _(DIMENSION_NAMES.get(comment["dimension"], N_("general"))))
            xl.text(notes, index, 2, comment["customer"])
            xl.text(notes, index, 3, comment["text"], wrap=True)
    if results["dimensions"]:
        chart = BarChart()
        chart.title = _("Score by dimension")
        chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 100
        last = 5 + len(results["dimensions"])
        chart.add_data(Reference(summary, min_col=2, min_row=5, max_row=last), titles_from_data=True)
        chart.set_categories(Reference(summary, min_col=1, min_row=6, max_row=last))
        chart.height, chart.width = 8, 16
        summary.add_chart(chart, f"A{last + 3}")
    return xl.to_bytes(book)
