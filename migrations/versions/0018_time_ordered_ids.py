"""Billing at scale: uuid7() for ids made by the database, and two fewer indexes per ledger row.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04

The batch (services/billing/_batch.py) writes its ledger rows with INSERT ... SELECT, so their ids are
made by PostgreSQL. Random (v4) ids scatter each insert over the whole primary-key index, which
outgrows shared_buffers at a few million rows; a UUIDv7 (RFC 9562: 48 bits of Unix milliseconds,
then 74 random bits) puts a batch's rows at the index's right edge. PostgreSQL 18 has uuidv7();
this is the same layout for 15 to 17. SQLite has no set-based batch and needs none.

Every minute writes three billing rows, so each index on billing_transactions is paid three times a
minute: ix_billing_transactions_wallet_id is dropped (ix_billing_transactions_wallet_kind begins with
wallet_id and serves its lookups and the foreign key), and external_transaction_id, which only
top-ups and payouts have, is indexed only where it is set.
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

UUID7 = """
CREATE OR REPLACE FUNCTION uuid7() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
    SELECT encode(
        set_bit(set_bit(
            overlay(uuid_send(gen_random_uuid())
                    placing substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                    FROM 1 FOR 6),
            52, 1), 53, 1),
        'hex')::uuid
$$
"""


EXTERNAL = "ix_billing_transactions_external_transaction_id"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(UUID7)
    op.drop_index("ix_billing_transactions_wallet_id", table_name="billing_transactions")
    op.drop_index(EXTERNAL, table_name="billing_transactions")
    where = sa.text("external_transaction_id IS NOT NULL")
    op.create_index(
        EXTERNAL, "billing_transactions", ["external_transaction_id"], postgresql_where=where, sqlite_where=where
    )


def downgrade():
    op.drop_index(EXTERNAL, table_name="billing_transactions")
    op.create_index(EXTERNAL, "billing_transactions", ["external_transaction_id"])
    op.create_index("ix_billing_transactions_wallet_id", "billing_transactions", ["wallet_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS uuid7()")
