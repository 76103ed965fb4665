"""A realistic, deterministic demo company: an automotive parts supplier with its people,
customers, two years of monthly figures, scorecard events, complaints in every state and
survey results. The same seed and the same last month give the same company."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bot.actions.lifecycle import take_step
from bot.calendar.working_days import WorkingCalendar
from bot.complaints.deadlines import SlaPolicyBook
from bot.core.roles import Authorizer
from bot.revisits.visits import open_revisit
from bot.scorecard import kpis
from bot.surveys.plans import plan as plan_survey
from storage.models import (
    Complaint as ComplaintRow,
)
from storage.models import (
    ComplaintDeadline,
    ComplaintStatusChange,
    CorrectiveAction,
    Customer,
    CustomerContact,
    EightDReport,
    FigureSubmission,
    Metric,
    Person,
    PersonRole,
    ScorecardEvent,
    ScorecardRule,
    SurveyAnswer,
    SurveyCampaign,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
)

# (slack id, name, roles, department, locale)
PEOPLE: list[tuple[str, str, list[str], str, str]] = [
    ("U0DEMOQE1", "王静", ["quality_engineer"], "质量部", "zh-CN"),
    ("U0DEMOQE2", "Anna Schmidt", ["quality_engineer"], "Quality", "en"),
    ("U0DEMOSM1", "李强", ["sales_manager"], "销售部", "zh-CN"),
    ("U0DEMOSM2", "陈晓明", ["sales_manager"], "销售部", "zh-CN"),
    ("U0DEMOSM3", "David Miller", ["sales_manager"], "Sales", "en"),
    ("U0DEMOSM4", "赵丽", ["sales_manager", "customer_service"], "销售部", "zh-CN"),
    ("U0DEMOAS1", "刘洋", ["after_sales_engineer"], "售后服务部", "zh-CN"),
    ("U0DEMOAS2", "孙伟", ["after_sales_engineer"], "售后服务部", "zh-CN"),
    ("U0DEMOIQ1", "周敏", ["ipqc_engineer"], "质量部", "zh-CN"),
    ("U0DEMOME1", "吴刚", ["manufacturing_engineer"], "制造部", "zh-CN"),
    ("U0DEMOCS1", "郑芳", ["customer_service"], "客户服务部", "zh-CN"),
    ("U0DEMOCS2", "Maria Garcia", ["customer_service"], "Customer Service", "en"),
    ("U0DEMOFI1", "黄蕾", ["finance"], "财务部", "zh-CN"),
    ("U0DEMOMG1", "张建国", ["management", "management_representative"], "总经办", "zh-CN"),
    ("U0DEMODH1", "马俊", ["department_head"], "质量部", "zh-CN"),
    ("U0DEMODH2", "杨帆", ["department_head", "operations_manager"], "销售部", "zh-CN"),
    ("U0DEMORD1", "何磊", ["rd_engineer"], "研发中心", "zh-CN"),
    ("U0DEMOPE1", "林涛", ["pilot_engineer"], "研发中心", "zh-CN"),
    ("U0DEMOPM1", "徐静怡", ["project_manager"], "项目部", "zh-CN"),
]

REGIONS = [("华东", "Huadong"), ("华北", "Huabei"), ("华南", "Huanan"), ("西南", "Xinan"), ("东北", "Dongbei"),
           ("长江", "Changjiang"), ("珠江", "Zhujiang"), ("泰山", "Taishan"), ("黄河", "Huanghe"), ("天府", "Tianfu"),
           ("江淮", "Jianghuai"), ("海峡", "Haixia"), ("北辰", "Beichen"), ("东方", "Dongfang"), ("星河", "Xinghe"),
           ("鹏城", "Pengcheng"), ("滨海", "Binhai"), ("金陵", "Jinling")]
KINDS = [("汽车", "Automotive", "passenger OEM"), ("商用车", "Commercial Vehicles", "commercial OEM"),
         ("新能源汽车", "New Energy Vehicles", "EV OEM"), ("客车", "Coach", "commercial OEM"),
         ("汽车零部件", "Auto Parts", "tier 1"), ("电动科技", "E-Mobility", "EV OEM")]
PRODUCTS = [("DM-2201", "车门锁总成 Door latch"), ("WS-310", "雨刮电机 Wiper motor"),
            ("SR-88", "座椅调角器 Seat recliner"), ("HL-4500", "前大灯总成 Headlamp"),
            ("EP-12", "电子油门踏板 E-pedal"), ("BC-700", "车身控制器 Body controller")]
SYMPTOMS = ["车门异响", "雨刮电机不工作", "座椅调角器卡滞", "大灯进水起雾", "踏板信号漂移", "控制器通讯故障",
            "Door rattles at low speed", "Connector pin bent on arrival", "Label missing on 3 cartons",
            "外观划伤", "扭矩不合格", "包装破损"]
STATES = ["new", "acknowledged", "investigating", "eight_d", "waiting_customer", "closed", "reopened"]
CONTACT_NAMES = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林"]
CONTACT_ROLES = ["采购", "质量", "生产"]
SURVEY_DIMENSIONS = [
    ("product_quality", "产品质量满意吗？", "How satisfied are you with product quality?"),
    ("delivery", "交付（数量、准时、完好）满意吗？",
     "How satisfied are you with delivery (quantity, on time, intact)?"),
    ("service", "售前售后服务满意吗？", "How satisfied are you with our service?"),
    ("price", "价格合理吗？", "Is the price reasonable?"),
    ("complaint_handling", "投诉处理（速度、结果、态度）满意吗？",
     "How satisfied are you with complaint handling?"),
    ("brand", "您对我司的信任度如何？", "How much do you trust our company?"),
]


@dataclass(frozen=True)
class DemoSize:
    customers: int = 36
    months: int = 24


def month_list(last: dt.date, count: int) -> list[str]:
    year, month = last.year, last.month
    months = []
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(months))


def last_complete_month(now: dt.datetime, tz: ZoneInfo) -> dt.date:
    local = now.astimezone(tz).date()
    return local.replace(day=1) - dt.timedelta(days=1)


def _value(rng: random.Random, metric: Metric, quality: float) -> Decimal:
    """A plausible monthly value; `quality` in 0..1 makes a customer better or worse."""
    key = metric.key
    generators: dict[str, Any] = {
        "on_time_deliveries": lambda: rng.randint(20, 120),
        "late_deliveries": lambda: max(0, int(rng.gauss(3 * (1 - quality), 1.5))),
        "line_defect_ppm": lambda: round(max(0.0, rng.gauss(180 * (1.2 - quality), 40)), 1),
        "customer_line_stops": lambda: 1 if rng.random() < 0.08 * (1.3 - quality) else 0,
        "customer_line_stop_minutes": lambda: 0,
        "complaints_received": lambda: max(0, int(rng.gauss(1.5 * (1.2 - quality), 1))),
        "kpi_achievement_rate": lambda: 100.0 if rng.random() < 0.4 + 0.5 * quality
        else float(rng.choice([66.7, 75.0, 80.0, 83.3, 87.5])),
        "customer_scorecard_pct": lambda: round(min(100.0, rng.gauss(78 + 20 * quality, 5)), 1),
        "field_3mis_ppm": lambda: round(max(0.0, rng.gauss(260 * (1.2 - quality), 60)), 1),
        "outgoing_defect_rate": lambda: round(max(0.05, rng.gauss(0.45, 0.12)), 2),
        "line_fpy": lambda: round(min(99.9, rng.gauss(97.6, 0.8)), 1),
        "line_stops": lambda: max(0, int(rng.gauss(2, 1.3))),
        "line_stop_minutes": lambda: max(0, int(rng.gauss(90, 50))),
        "user_satisfaction": lambda: round(min(100.0, rng.gauss(90 + 8 * quality, 2.5)), 1),
        "repair_satisfaction": lambda: round(min(100.0, rng.gauss(88 + 9 * quality, 3)), 1),
        "claim_cost": lambda: round(max(0.0, rng.gauss(12000 * (1.2 - quality), 6000)), 2),
        "return_cost": lambda: round(max(0.0, rng.gauss(8000 * (1.2 - quality), 4000)), 2),
        "after_sales_cost": lambda: round(max(0.0, rng.gauss(15000 * (1.2 - quality), 5000)), 2),
    }
    value = generators.get(key, lambda: float(metric.target or 0))()
    low, high = float(metric.min_value), float(metric.max_value)
    return Decimal(str(min(high, max(low, value))))


def generate(session: Session, size: DemoSize, seed: int, now: dt.datetime, tz: ZoneInfo,
             last_month: dt.date | None = None) -> dict[str, int]:
    rng = random.Random(seed)
    last = last_month or last_complete_month(now, tz)
    if last_month is not None:  # any day of the month will do
        last = (last_month.replace(day=1) + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    months = month_list(last, size.months)

    # people
    people: dict[str, Person] = {}
    for slack_id, name, roles, department, locale in PEOPLE:
        person = Person(slack_user_id=slack_id, name=name, department=department, locale=locale,
                        email=f"{slack_id.lower()}@demo.csatbot.example", active=True,
                        roles=[PersonRole(role_key=r) for r in roles])
        session.add(person)
        people[slack_id] = person
    session.flush()
    sales = [p for p in people.values() if "sales_manager" in p.role_keys]
    quality = [p for p in people.values() if "quality_engineer" in p.role_keys]
    owner_of_role = {r: next(p for p in people.values() if r in p.role_keys)
                     for r in ("after_sales_engineer", "ipqc_engineer", "manufacturing_engineer",
                               "customer_service", "finance", "quality_engineer")}

    # customers
    customer_rows = []
    for index in range(size.customers):
        region_zh, region_en = REGIONS[index % len(REGIONS)]
        kind_zh, kind_en, segment = KINDS[(index // len(REGIONS) + index) % len(KINDS)]
        suffix = "" if index < len(REGIONS) * len(KINDS) else f" {index // (len(REGIONS) * len(KINDS)) + 1}"
        customer_rows.append({
            "code": f"C{index + 1:04d}",
            "name_zh": f"{region_zh}{kind_zh}{suffix.strip()}",
            "name_en": f"{region_en} {kind_en}{suffix}",
            "segment": segment,
            "owner_id": sales[index % len(sales)].id,
            "active": True,
            "created_at": now, "updated_at": now,
        })
    session.execute(insert(Customer), customer_rows)
    customers = list(session.scalars(select(Customer).order_by(Customer.code)))
    quality_of = {c.id: rng.betavariate(5, 2) for c in customers}

    # figures: one current version each, a few corrected
    metrics = list(session.scalars(select(Metric).where(Metric.in_monthly_call.is_(True)).order_by(Metric.sort_order)))
    figure_rows: list[dict[str, Any]] = []
    for month in months:
        year, mon = int(month[:4]), int(month[5:])
        submitted = dt.datetime(year, mon, 1, tzinfo=tz) + dt.timedelta(days=35)
        submitted = min(submitted.astimezone(dt.UTC), now)
        for metric in metrics:
            role_owner_id = owner_of_role[metric.owner_role].id if metric.owner_role in owner_of_role else None
            targets: list[Customer | None] = [None] if metric.scope == "company" else list(customers)
            for customer in targets:
                customer_id = customer.id if customer else None
                value = _value(rng, metric, quality_of.get(customer_id, 0.7) if customer_id else 0.7)
                if metric.key == "customer_line_stop_minutes":
                    value = Decimal(0)
                series = f"{metric.key}|{month}|{customer_id if customer_id else '-'}"
                base = {"series_key": series, "metric_key": metric.key, "period": month, "customer_id": customer_id,
                        "submitted_by_id": customer.owner_id if customer and metric.owner_role == "sales_manager"
                        else role_owner_id,
                        "on_behalf_of_id": None, "submitted_at": submitted, "source": "demo", "note": None}
                if rng.random() < 0.01:
                    figure_rows.append(dict(base, value=value * Decimal("1.1"), version=1, is_current=False,
                                            reason=None))
                    figure_rows.append(dict(base, value=value, version=2, is_current=True,
                                            submitted_at=submitted + dt.timedelta(days=2),
                                            reason="更正：财务口径调整 / corrected after reconciliation"))
                else:
                    figure_rows.append(dict(base, value=value, version=1, is_current=True, reason=None))
        if len(figure_rows) > 20000:
            session.execute(insert(FigureSubmission), figure_rows)
            figure_rows = []
    if figure_rows:
        session.execute(insert(FigureSubmission), figure_rows)

    # the first customers keep a KPI register: Cpk asked monthly, the others computed
    for customer in customers[:2]:
        for kpi, zh, en, target, direction, unit in (
                ("cpk", "关键过程能力", "Key process capability", "1.33", "higher", "index"),
                ("after_sales_ppm", "售后PPM", "After-sales PPM", "300", "lower", "PPM"),
                ("response_timeliness", "投诉响应及时率", "Complaint response timeliness", "95", "higher", "%")):
            kpis.register_kpi(session, kpis.KpiRow(customer.id, kpi, zh, en, Decimal(target), direction, True, unit),
                              months[0], now, None)
        cpk_rows = [{"series_key": f"kpi.cpk|{month}|{customer.id}", "metric_key": "kpi.cpk", "period": month,
                     "customer_id": customer.id, "value": Decimal(str(round(rng.gauss(1.45, 0.15), 2))),
                     "version": 1, "is_current": True, "submitted_by_id": customer.owner_id, "on_behalf_of_id": None,
                     "submitted_at": now, "source": "demo", "reason": None, "note": None}
                    for month in months]
        session.execute(insert(FigureSubmission), cpk_rows)

    # scorecard events
    rules = list(session.scalars(select(ScorecardRule)))
    event_types = sorted({r.event_type for r in rules})
    weights = {t: (0.5 if t in ("production_stop", "quality_notice_suspension", "delivery_notice_suspension")
                   else 2.0 if t in ("partial_return", "late_notified", "packaging_nonconformity", "concession")
                   else 1.0) for t in event_types}
    event_rows = []
    for customer in customers:
        badness = 1.2 - quality_of[customer.id]
        for month in months:
            year, mon = int(month[:4]), int(month[5:])
            if rng.random() < 0.55 * badness:
                for _ in range(1 + int(rng.random() < 0.3 * badness)):
                    event_type = rng.choices(event_types, weights=[weights[t] for t in event_types])[0]
                    event_rows.append({
                        "customer_id": customer.id, "event_date": dt.date(year, mon, rng.randint(1, 28)),
                        "event_type": event_type, "count": 1 if rng.random() < 0.85 else 2,
                        "note": None, "complaint_id": None, "source": "demo",
                        "entered_by_id": customer.owner_id, "entered_at": now, "supersedes_id": None,
                        "is_current": True, "reason": None,
                    })
    if event_rows:
        session.execute(insert(ScorecardEvent), event_rows)

    # complaints, in every state, with status history and deadlines
    calendar = WorkingCalendar.load(session)
    book = SlaPolicyBook.load(session)
    complaint_count = max(len(STATES) * 2, size.customers // 2 + size.months)
    horizon_days = min(size.months * 30, 720)
    numbers: dict[int, int] = {}
    for index in range(complaint_count):
        customer = customers[rng.randrange(len(customers))]
        state = STATES[index % len(STATES)] if index < len(STATES) * 2 else (
            "closed" if rng.random() < 0.8 else rng.choice(STATES))
        days_ago = rng.randint(0, 9) if state not in ("closed",) else rng.randint(10, horizon_days)
        received = (now - dt.timedelta(days=days_ago, hours=rng.randint(0, 20))).replace(microsecond=0)
        year = received.astimezone(tz).year
        numbers[year] = numbers.get(year, 0) + 1
        model, _spec = PRODUCTS[rng.randrange(len(PRODUCTS))]
        severity = rng.choices(["general", "serious", "urgent"], weights=[6, 3, 1])[0]
        handler = quality[index % len(quality)]
        complaint = ComplaintRow(
            number=f"KS-{year}-{numbers[year]:04d}", customer_id=customer.id, contact_name=rng.choice(
                ["刘工", "Mr. Brown", "王经理", "张工", "Ms. Lee"]),
            contact_phone=f"138{rng.randint(10000000, 99999999)}",
            contact_email=None, product_model=model, specification=_spec, quantity=rng.randint(1, 200),
            batch=f"B{received.strftime('%y%m')}{rng.randint(100, 999)}", symptom=rng.choice(SYMPTOMS),
            severity=severity, received_via=rng.choice(["phone", "email", "visit", "portal"]),
            found_where=("incoming", "line", "line", "field")[numbers[year] % 4], received_at=received,
            registered_at=received + dt.timedelta(minutes=rng.randint(5, 90)), logged_by_id=customer.owner_id,
            owner_id=handler.id, status=state, source="demo",
            responsibility=rng.choice(["ours", "customer", "supplier"]) if state in (
                "investigating", "eight_d", "waiting_customer", "closed", "reopened") else None,
            cause_category=rng.choice(["design", "process", "material", "transport", "handling"]),
            cost=Decimal(rng.randint(0, 50000)) if state == "closed" else None,
            first_response="已电话回复客户，安排现场确认。" if state != "new" else None,
            closed_at=received + dt.timedelta(days=rng.randint(1, 6)) if state == "closed" else None,
            reply_to_customer="已提交8D报告并完成整改。" if state == "closed" else None,
        )
        session.add(complaint)
        session.flush()
        path = STATES[: STATES.index(state) + 1] if state != "reopened" else STATES[:6] + ["reopened"]
        at = received
        previous = None
        for step in path:
            session.add(ComplaintStatusChange(complaint_id=complaint.id, from_status=previous, to_status=step,
                                              changed_at=at, changed_by_id=handler.id))
            previous = step
            at = at + dt.timedelta(hours=rng.randint(2, 20))
        for milestone, due in book.deadlines(received, severity, customer.id, calendar, tz).items():
            met = state == "closed" or (milestone == "register") or (
                milestone == "first_response" and state != "new")
            met_at = min(due - dt.timedelta(hours=1), now) if met else None
            breached = not met and due < now
            warn_at = received + (due - received) * 0.75
            session.add(ComplaintDeadline(complaint_id=complaint.id, milestone=milestone, due_at=due, warn_at=warn_at,
                                          state="met" if met else ("breached" if breached else "open"),
                                          met_at=met_at, breached_at=due if breached else None,
                                          warned_at=warn_at if (met or breached) and warn_at <= now else None))
        if state in ("eight_d", "waiting_customer", "closed"):
            session.add(EightDReport(complaint_id=complaint.id, d1_team="质量部、制造部、研发中心",
                                     d2_problem=complaint.symptom, d3_containment="库存及在途品100%全检",
                                     d4_root_cause="装配工序扭矩设定偏低" if state != "eight_d" else None,
                                     submitted_at=at if state == "closed" else None))

    _number_in_receipt_order(session, tz)

    # survey: one half-year questionnaire per year in the window, and survey_score figures
    years = sorted({int(m[:4]) for m in months if m.endswith("-12")})  # surveys run in December
    responses = 0
    for year in years:
        campaign = SurveyCampaign(key=f"half-year-{year}-h2", title_zh=f"{year}年下半年顾客满意度调查",
                                  title_en=f"Customer satisfaction survey H2 {year}", kind="half_year",
                                  method="questionnaire", opens_on=dt.date(year, 11, 15),
                                  closes_on=dt.date(year, 12, 15), status="closed",
                                  created_by_id=quality[0].id)
        campaign.questions = [SurveyQuestion(position=i + 1, key=d, dimension=d, text_zh=zh, text_en=en, kind="scale",
                                             importance=Decimal(rng.randint(60, 100)))
                              for i, (d, zh, en) in enumerate(SURVEY_DIMENSIONS)]
        session.add(campaign)
        session.flush()
        survey_month = f"{year}-12"
        score_rows = []
        for customer in customers:
            if rng.random() < 0.35:
                continue
            response = SurveyResponse(campaign_id=campaign.id, customer_id=customer.id, respondent="采购部",
                                      channel="questionnaire", submitted_at=dt.datetime(year, 12, 10, tzinfo=dt.UTC))
            scores = []
            for question in campaign.questions:
                score = max(40.0, min(100.0, rng.gauss(70 + 28 * quality_of[customer.id], 7)))
                scores.append(score)
                rating = min(5, max(1, round(1 + score / 25)))  # the 1–5 rating such a score reads as
                response.answers.append(SurveyAnswer(question_id=question.id, score=Decimal(rating)))
            session.add(response)
            responses += 1
            score_rows.append({
                "series_key": f"survey_score|{survey_month}|{customer.id}", "metric_key": "survey_score",
                "period": survey_month, "customer_id": customer.id,
                "value": Decimal(str(round(sum(scores) / len(scores), 1))), "version": 1, "is_current": True,
                "submitted_by_id": quality[0].id, "on_behalf_of_id": None,
                "submitted_at": dt.datetime(year, 12, 20, tzinfo=dt.UTC), "source": "demo", "reason": None,
                "note": campaign.key,
            })
        if score_rows:
            session.execute(insert(FigureSubmission), score_rows)

    # contacts at each customer (one to three), and a quarterly questionnaire under way: opened
    # a few days ago, its links sent to the owners by the survey job, a third answered
    contact_rows = []
    for customer in customers:
        for number in range(rng.randint(1, 3)):
            surname, role_zh = CONTACT_NAMES[rng.randrange(len(CONTACT_NAMES))], CONTACT_ROLES[number]
            contact_rows.append({"customer_id": customer.id, "name": f"{surname}工（{role_zh}）",
                                 "phone": f"1{rng.randint(3, 9)}{rng.randint(0, 10**9 - 1):09d}",
                                 "email": "", "role": role_zh, "locale": None, "active": True,
                                 "created_at": now, "updated_at": now})
    session.execute(insert(CustomerContact), contact_rows)
    today_local = now.astimezone(tz).date()
    survey = plan_survey(session, "quarterly", today_local - dt.timedelta(days=3),
                         today_local + dt.timedelta(days=11), quality[0].id, now, seed=seed)
    for invitation in session.scalars(select(SurveyInvitation).where(SurveyInvitation.campaign_id == survey.id)):
        if rng.random() > 0.33:
            continue
        answered_at = now - dt.timedelta(hours=rng.randint(2, 60))
        response = SurveyResponse(campaign_id=survey.id, customer_id=invitation.customer_id,
                                  respondent=invitation.contact.name if invitation.contact else "采购部",
                                  channel="web", submitted_at=answered_at, invitation_id=invitation.id)
        for question in survey.questions:
            rating = min(5, max(1, round(rng.gauss(2.2 + 2.6 * quality_of[invitation.customer_id], 0.7))))
            response.answers.append(SurveyAnswer(question_id=question.id, score=Decimal(rating),
                                                 importance=Decimal(rng.randint(3, 5))
                                                 if question.asks_importance else None))
        session.add(response)
        invitation.answered_at, invitation.answered_by = answered_at, "web"
        responses += 1
    session.flush()

    # corrective actions in several states, each taken through its steps as people would
    authorizer = Authorizer()
    boss, verifier = people["U0DEMOMG1"], quality[1 % len(quality)]
    analysis = {"root_cause": "包装标签打印机老化，条码模糊 / the label printer wore out", "method": "five_why",
                "containment": "在库品全检并重贴标签", "measures": "更换打印机，首件核对条码"}
    plans = [(), ("assign",), ("assign", "analyse"), ("assign", "analyse", "approve"),
             ("assign", "analyse", "approve", "implement"), ("assign", "analyse", "approve", "implement", "verify")]
    when = dt.datetime.combine(last, dt.time(10), tz).astimezone(dt.UTC)
    for index, customer in enumerate(sorted(customers, key=lambda c: quality_of[c.id])[:len(plans)]):
        owner = people["U0DEMOSM1"] if index % 2 else quality[0]
        action = CorrectiveAction(
            trigger_key=f"demo:{customer.code}:{months[-1]}", trigger_kind="monthly_below_target",
            trigger_detail={"month": months[-1]}, customer_id=customer.id, area="product_quality",
            title=f"{customer.name_zh}：{months[-1]} 月度满意度低于目标，分析原因并整改 / "
                  f"{customer.name_en}: {months[-1]} score below target", owner_department="项目经理 / Project manager",
            owner_id=owner.id, due_date=last + dt.timedelta(days=30 + 10 * index), status="open", opened_at=when)
        session.add(action)
        session.flush()
        for step in plans[index]:
            by = {"assign": quality[0], "approve": boss, "verify": verifier}.get(step, owner)
            values: dict[str, Any] = {"assign": {"owner": owner.id}, "analyse": analysis,
                                      "implement": {"done": "已更换打印机并加首件核对", "done_on": last.isoformat(),
                                                    "evidence": "8D-2026-015.pdf"},
                                      "verify": {"effective": "yes", "how": "连续三批出货无标签问题",
                                                 "data": "出货检验记录", "period": months[-1]}}.get(step, {})
            take_step(session, authorizer, action, step, by, values, when, last)
    # quality revisits: one due today for the first customer's owner, one in a fortnight
    today = now.astimezone(tz).date()
    model = PRODUCTS[0][0]
    for index, (reason, due) in enumerate((("new_product", today), ("concession", today + dt.timedelta(days=14)))):
        open_revisit(session, f"demo:{index}", customers[index].id, model, reason, due, "import", now,
                     note="演示数据 / demo")
    return {"people": len(PEOPLE), "customers": len(customers), "months": len(months),
            "scorecard_events": len(event_rows), "complaints": complaint_count, "survey_responses": responses}


def _number_in_receipt_order(session: Session, tz: dt.tzinfo) -> None:
    """A ledger numbers complaints as they arrive: KS-2026-0001 is the year's first received."""
    rows = list(session.scalars(select(ComplaintRow).where(ComplaintRow.source == "demo")
                                .order_by(ComplaintRow.received_at, ComplaintRow.id)))
    for row in rows:
        row.number = f"TMP-{row.id}"  # unique while the real numbers move
    session.flush()
    counts: dict[int, int] = {}
    for row in rows:
        received = row.received_at if row.received_at.tzinfo else row.received_at.replace(tzinfo=dt.UTC)
        year = received.astimezone(tz).year
        counts[year] = counts.get(year, 0) + 1
        row.number = f"KS-{year}-{counts[year]:04d}"
    session.flush()


def give_wecom_ids(session: Session) -> dict[str, str]:
    """Every demo person who has none gets a WeCom userid (their Slack id in lower case), so
    that the demo can play a WeCom client beside the Slack workspace: Slack id → userid."""
    given: dict[str, str] = {}
    for person in session.scalars(select(Person).where(Person.active.is_(True)).order_by(Person.id)):
        slack, wecom = person.identity("slack"), person.identity("wecom")
        if slack and not wecom:
            person.set_identity("wecom", slack.lower())
            wecom = slack.lower()
        if slack and wecom:
            given[slack] = wecom
    session.flush()
    return given
