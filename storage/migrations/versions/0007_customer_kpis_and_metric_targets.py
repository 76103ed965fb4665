"""the customer KPI register and metric targets valid from a month

Revision ID: 0007
Revises: 0006
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "metric_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("metric_key", sa.String(length=64), nullable=False),
        sa.Column("valid_from", sa.String(length=7), nullable=False),
        sa.Column("target", sa.Numeric(20, 6), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["metric_key"], ["metrics.key"], name=op.f("fk_metric_targets_metric_key_metrics")),
        sa.ForeignKeyConstraint(["set_by_id"], ["people.id"], name=op.f("fk_metric_targets_set_by_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_targets")),
        sa.UniqueConstraint("metric_key", "valid_from", name="uq_metric_targets_metric_key"),
    )
    op.create_table(
        "customer_kpis",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kpi", sa.String(length=48), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("target", sa.Numeric(20, 6), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("valid_from", sa.String(length=7), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_customer_kpis_customer_id_customers")),
        sa.ForeignKeyConstraint(["entered_by_id"], ["people.id"], name=op.f("fk_customer_kpis_entered_by_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_kpis")),
        sa.UniqueConstraint("customer_id", "kpi", "valid_from", name="uq_customer_kpis_customer_id"),
    )


    # an installation that upgrades keeps its history as it was scored: a month without a
    # typed KPI rate was full marks until now; from this month on the rate is required
    settings = sa.table("settings", sa.column("key", sa.String), sa.column("value", sa.JSON))
    connection = op.get_bind()
    row = connection.execute(sa.select(settings.c.value).where(settings.c.key == "data_call")).first()
    if row is not None:
        value = dict(row[0] or {})
        value.setdefault("kpi_rate_required_from", dt.datetime.now(dt.UTC).strftime("%Y-%m"))
        connection.execute(sa.update(settings).where(settings.c.key == "data_call").values(value=value))


def downgrade() -> None:
    op.drop_table("customer_kpis")
    op.drop_table("metric_targets")
