"""Payouts as a lifecycle (requested -> approved -> paid, or rejected / failed) and the stored result
of each ledger verification; indexes for an astrologer's earnings sums and the audit page's filters.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

Every payout billing row written before this revision gets its payouts row: pending -> requested,
completed -> paid (the bank reference entered at approval is its provider reference), cancelled ->
rejected (with its reason), failed -> failed. The payout and its billing row share an id.
"""

import uuid

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
WHEN = sa.DateTime(timezone=True)
STATUS = {"pending": "requested", "completed": "paid", "cancelled": "rejected", "failed": "failed"}


def upgrade():
    op.create_table(
        "ledger_checks",
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("finished_at", WHEN, nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("breach_count", sa.Integer(), nullable=False),
        sa.Column("report", JSON, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_checks")),
    )
    op.create_index("ix_ledger_checks_finished_at", "ledger_checks", ["finished_at"])

    payouts = op.create_table(
        "payouts",
        sa.Column("astrologer_id", sa.Uuid(), nullable=False),
        sa.Column("wallet_id", sa.Uuid(), nullable=False),
        sa.Column("billing_transaction_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), server_default="INR", nullable=False),
        sa.Column(
            "status",
            sa.Enum("requested", "approved", "paid", "rejected", "failed", name="payout_status", native_enum=False,
                    create_constraint=True, length=32),
            nullable=False,
        ),  # fmt: skip
        sa.Column("provider", sa.String(length=30), nullable=True),
        sa.Column("provider_reference", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("requested_at", WHEN, nullable=False),
        sa.Column("approved_at", WHEN, nullable=True),
        sa.Column("approved_by", sa.Uuid(), nullable=True),
        sa.Column("paid_at", WHEN, nullable=True),
        sa.Column("closed_at", WHEN, nullable=True),
        sa.Column("closed_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.CheckConstraint("(status = 'paid') = (paid_at IS NOT NULL)", name=op.f("ck_payouts_paid_when_paid")),
        sa.CheckConstraint(
            "(status = 'rejected' OR status = 'failed') = (closed_at IS NOT NULL)",
            name=op.f("ck_payouts_closed_when_rejected_or_failed"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payouts_amount_positive")),
        sa.ForeignKeyConstraint(["approved_by"], ["users.id"], name=op.f("fk_payouts_approved_by_users")),
        sa.ForeignKeyConstraint(["astrologer_id"], ["users.id"], name=op.f("fk_payouts_astrologer_id_users")),
        sa.ForeignKeyConstraint(
            ["billing_transaction_id"],
            ["billing_transactions.id"],
            name=op.f("fk_payouts_billing_transaction_id_billing_transactions"),
        ),
        sa.ForeignKeyConstraint(["closed_by"], ["users.id"], name=op.f("fk_payouts_closed_by_users")),
        sa.ForeignKeyConstraint(["wallet_id"], ["wallets.id"], name=op.f("fk_payouts_wallet_id_wallets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts")),
        sa.UniqueConstraint("billing_transaction_id", name=op.f("uq_payouts_billing_transaction_id")),
    )
    op.create_index("ix_payouts_astrologer_requested", "payouts", ["astrologer_id", "requested_at"])
    op.create_index("ix_payouts_status_requested", "payouts", ["status", "requested_at"])
    op.create_index("ix_audit_entries_actor", "audit_entries", ["actor_id", "created_at"])
    op.create_index("ix_audit_entries_created_at", "audit_entries", ["created_at"])
    op.create_index("ix_billing_transactions_wallet_kind", "billing_transactions", ["wallet_id", "kind", "status"])
    _backfill(payouts)


def _backfill(payouts):
    billing = sa.table(
        "billing_transactions",
        *(sa.column(name, sa.Uuid()) for name in ("id", "user_id", "wallet_id")),
        *(sa.column(name) for name in ("kind", "status", "currency", "external_transaction_id")),
        sa.column("amount", sa.Numeric(10, 2)),
        *(sa.column(name, WHEN) for name in ("created_at", "updated_at", "processed_at")),
        sa.column("details", JSON),
    )  # fmt: skip
    rows = op.get_bind().execute(sa.select(billing).where(billing.c.kind == "payout")).mappings().all()
    records = []
    for row in rows:
        details, status = row["details"] or {}, STATUS[row["status"]]
        approver = details.get("approved_by") if status == "paid" else None
        closer = details.get("rejected_by") if status == "rejected" else None
        records.append(
            {
                "id": row["id"], "astrologer_id": row["user_id"], "wallet_id": row["wallet_id"],
                "billing_transaction_id": row["id"], "amount": row["amount"], "currency": row["currency"],
                "status": status, "provider": "manual" if status == "paid" else None,
                "provider_reference": row["external_transaction_id"], "reason": details.get("reason"),
                "requested_at": row["created_at"],
                "approved_at": row["processed_at"] if status == "paid" else None,
                "approved_by": uuid.UUID(approver) if approver else None,
                "paid_at": row["processed_at"] if status == "paid" else None,
                "closed_at": row["processed_at"] if status in ("rejected", "failed") else None,
                "closed_by": uuid.UUID(closer) if closer else None,
                "created_at": row["created_at"], "updated_at": row["updated_at"],
            }
        )  # fmt: skip
    for record in records:
        op.get_bind().execute(payouts.insert().values(**record))


def downgrade():
    op.drop_index("ix_billing_transactions_wallet_kind", table_name="billing_transactions")
    op.drop_index("ix_audit_entries_created_at", table_name="audit_entries")
    op.drop_index("ix_audit_entries_actor", table_name="audit_entries")
    op.drop_index("ix_payouts_status_requested", table_name="payouts")
    op.drop_index("ix_payouts_astrologer_requested", table_name="payouts")
    op.drop_table("payouts")
    op.drop_index("ix_ledger_checks_finished_at", table_name="ledger_checks")
    op.drop_table("ledger_checks")
