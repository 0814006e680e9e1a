"""Money in for real: tax on top-ups, tax invoices and credit notes, top-ups paid back.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-08

tax_invoices and invoice_counters (webapp/models/invoice.py); user_profiles.billing_state (the place
of supply a person named); billing_transactions.kind gains tax (the tax paid with a top-up, into the
tax account), topup_refund and tax_refund (a top-up paid back through its gateway, with a credit note);
an index of the top-ups still waiting for their gateway (reconciliation).
Top-ups before this carried no tax and have no invoice. Not in the seed schema.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

KINDS = (
    "topup", "hold", "release", "charge", "earning", "commission", "refund", "reversal", "payout", "forfeit",
    "unclaimed",
)  # fmt: skip
NEW_KINDS = ("tax", "topup_refund", "tax_refund")
INVOICE_KIND = sa.Enum("invoice", "credit_note", name="invoice_kind", native_enum=False, create_constraint=True, length=32)
MONEY = sa.Numeric(precision=10, scale=2)
JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "invoice_counters",
        sa.Column("kind", INVOICE_KIND, nullable=False),
        sa.Column("financial_year", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "financial_year", name=op.f("pk_invoice_counters")),
    )
    op.create_table(
        "tax_invoices",
        sa.Column("kind", INVOICE_KIND, nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("financial_year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("billing_transaction_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seller", JSON, nullable=False),
        sa.Column("buyer_name", sa.String(length=255), nullable=False),
        sa.Column("buyer_email", sa.String(length=255), nullable=True),
        sa.Column("buyer_state", sa.String(length=2), nullable=False),
        sa.Column("sac_code", sa.String(length=8), nullable=False),
        sa.Column("tax_name", sa.String(length=20), nullable=False),
        sa.Column("tax_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("taxable_value", MONEY, nullable=False),
        sa.Column("cgst", MONEY, nullable=False),
        sa.Column("sgst", MONEY, nullable=False),
        sa.Column("igst", MONEY, nullable=False),
        sa.Column("total", MONEY, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("(kind = 'credit_note') = (invoice_id IS NOT NULL)", name=op.f("ck_tax_invoices_credit_note_names_invoice")),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_tax_invoices_seq_positive")),
        sa.CheckConstraint("taxable_value > 0 AND cgst >= 0 AND sgst >= 0 AND igst >= 0", name=op.f("ck_tax_invoices_amounts_valid")),
        sa.CheckConstraint("total = taxable_value + cgst + sgst + igst", name=op.f("ck_tax_invoices_total_adds_up")),
        sa.ForeignKeyConstraint(["billing_transaction_id"], ["billing_transactions.id"], name=op.f("fk_tax_invoices_billing_transaction_id_billing_transactions")),
        sa.ForeignKeyConstraint(["invoice_id"], ["tax_invoices.id"], name=op.f("fk_tax_invoices_invoice_id_tax_invoices")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_tax_invoices_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tax_invoices")),
        sa.UniqueConstraint("kind", "financial_year", "seq", name="uq_tax_invoices_series_seq"),
        sa.UniqueConstraint("number", name=op.f("uq_tax_invoices_number")),
    )  # fmt: skip
    op.create_index("ix_tax_invoices_issued_at", "tax_invoices", ["issued_at"])
    op.create_index(op.f("ix_tax_invoices_user_id"), "tax_invoices", ["user_id"])
    op.create_index("uq_tax_invoices_one_per_topup", "tax_invoices", ["kind", "billing_transaction_id"], unique=True)
    with op.batch_alter_table("user_profiles") as batch:
        batch.add_column(sa.Column("billing_state", sa.String(length=2), nullable=True))
    _kinds(KINDS + NEW_KINDS)
    pending = sa.text("kind = 'topup' AND status = 'pending'")
    op.create_index(
        "ix_billing_transactions_pending_topups", "billing_transactions", ["created_at"],
        postgresql_where=pending, sqlite_where=pending,
    )  # fmt: skip


def _kinds(kinds):
    with op.batch_alter_table("billing_transactions") as batch:
        batch.drop_constraint(op.f("ck_billing_transactions_billing_kind"), type_="check")
        batch.create_check_constraint(
            op.f("ck_billing_transactions_billing_kind"), f"kind IN ({', '.join(repr(kind) for kind in kinds)})"
        )


def downgrade():
    if op.get_bind().execute(sa.text("SELECT count(*) FROM tax_invoices")).scalar():
        raise RuntimeError("tax invoices exist: the law keeps them, so 0025 cannot be downgraded")
    op.drop_index("ix_billing_transactions_pending_topups", table_name="billing_transactions")
    _kinds(KINDS)  # fails while a tax leg is stored: a downgrade would have to lose money movements
    with op.batch_alter_table("user_profiles") as batch:
        batch.drop_column("billing_state")
    op.drop_index("uq_tax_invoices_one_per_topup", table_name="tax_invoices")
    op.drop_index(op.f("ix_tax_invoices_user_id"), table_name="tax_invoices")
    op.drop_index("ix_tax_invoices_issued_at", table_name="tax_invoices")
    op.drop_table("tax_invoices")
    op.drop_table("invoice_counters")
