"""Initial schema: the nine tables of the seed with the additions of DESIGN.md.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Reviewed by hand. Runs on PostgreSQL and SQLite:
- enums are VARCHAR(32) + CHECK (not native ENUMs), so values are added by
  a plain migration on both backends;
- money is NUMERIC(10,2) (totals 12,2); on SQLite the models store whole
  paise in it (see webapp/models/types.py), which NUMERIC affinity keeps exact;
- JSON is JSONB on PostgreSQL, JSON text on SQLite;
- the partial unique index allows one open (waiting or active) session per user;
- constraint names follow the naming convention in webapp/extensions.py.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('users',
    sa.Column('external_id', sa.String(length=64), nullable=True),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('type', sa.Enum('user', 'astrologer', 'admin', 'system', name='user_type', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('active', 'suspended', 'deleted', name='user_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(status = 'deleted') = (deleted_at IS NOT NULL)", name=op.f('ck_users_deleted_status_matches_deleted_at')),
    sa.CheckConstraint('email IS NOT NULL OR phone IS NOT NULL OR external_id IS NOT NULL', name=op.f('ck_users_identifiable')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email')),
    sa.UniqueConstraint('external_id', name=op.f('uq_users_external_id')),
    sa.UniqueConstraint('phone', name=op.f('uq_users_phone'))
    )
    op.create_table('astrologer_profiles',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('specializations', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('languages', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('experience_years', sa.Integer(), nullable=False),
    sa.Column('about', sa.Text(), nullable=True),
    sa.Column('photo_url', sa.String(length=500), nullable=True),
    sa.Column('chat_rate_per_minute', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('call_rate_per_minute', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('max_concurrent_sessions', sa.Integer(), nullable=False),
    sa.Column('chat_availability', sa.Enum('available', 'unavailable', 'offline', name='chat_availability', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('call_availability', sa.Enum('available', 'unavailable', 'offline', name='call_availability', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('is_approved', sa.Boolean(), nullable=False),
    sa.Column('rating_average', sa.Numeric(precision=3, scale=2), nullable=False),
    sa.Column('rating_count', sa.Integer(), nullable=False),
    sa.Column('total_sessions', sa.Integer(), nullable=False),
    sa.Column('total_minutes', sa.Integer(), nullable=False),
    sa.Column('total_earnings', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('call_rate_per_minute >= 0', name=op.f('ck_astrologer_profiles_call_rate_not_negative')),
    sa.CheckConstraint('chat_rate_per_minute >= 0', name=op.f('ck_astrologer_profiles_chat_rate_not_negative')),
    sa.CheckConstraint('experience_years BETWEEN 0 AND 80', name=op.f('ck_astrologer_profiles_experience_range')),
    sa.CheckConstraint('max_concurrent_sessions BETWEEN 1 AND 20', name=op.f('ck_astrologer_profiles_capacity_range')),
    sa.CheckConstraint('rating_average >= 0', name=op.f('ck_astrologer_profiles_rating_not_negative')),
    sa.CheckConstraint('rating_count >= 0 AND total_sessions >= 0 AND total_minutes >= 0', name=op.f('ck_astrologer_profiles_counts_not_negative')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_astrologer_profiles_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_astrologer_profiles')),
    sa.UniqueConstraint('user_id', name=op.f('uq_astrologer_profiles_user_id'))
    )
    op.create_table('consultation_sessions',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('astrologer_id', sa.Uuid(), nullable=False),
    sa.Column('session_type', sa.Enum('chat', 'call', name='session_type', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('waiting', 'active', 'completed', 'cancelled', name='session_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('rate_per_minute', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.Enum('user_ended', 'astrologer_ended', 'insufficient_balance', 'astrologer_no_reply', 'service_interruption', 'participant_disconnected', 'declined', 'cancelled', 'accept_timeout', 'admin_ended', 'account_deleted', name='end_reason', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('duration_seconds', sa.Integer(), nullable=False),
    sa.Column('billed_minutes', sa.Integer(), nullable=False),
    sa.Column('free_minutes', sa.Integer(), nullable=False),
    sa.Column('next_charge_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('astrologer_replied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('total_cost', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('rating', sa.SmallInteger(), nullable=True),
    sa.Column('review_text', sa.Text(), nullable=True),
    sa.Column('rated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status <> 'active' OR started_at IS NOT NULL", name=op.f('ck_consultation_sessions_active_has_started_at')),
    sa.CheckConstraint('billed_minutes >= 0 AND free_minutes >= 0', name=op.f('ck_consultation_sessions_minutes_not_negative')),
    sa.CheckConstraint('duration_seconds >= 0', name=op.f('ck_consultation_sessions_duration_not_negative')),
    sa.CheckConstraint('rate_per_minute >= 0', name=op.f('ck_consultation_sessions_rate_not_negative')),
    sa.CheckConstraint('rating IS NULL OR rating BETWEEN 1 AND 5', name=op.f('ck_consultation_sessions_rating_range')),
    sa.CheckConstraint('total_cost >= 0', name=op.f('ck_consultation_sessions_total_cost_not_negative')),
    sa.CheckConstraint('user_id <> astrologer_id', name=op.f('ck_consultation_sessions_not_self')),
    sa.ForeignKeyConstraint(['astrologer_id'], ['users.id'], name=op.f('fk_consultation_sessions_astrologer_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_consultation_sessions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultation_sessions'))
    )
    op.create_index(op.f('ix_consultation_sessions_astrologer_id'), 'consultation_sessions', ['astrologer_id'], unique=False)
    op.create_index('ix_consultation_sessions_astrologer_status', 'consultation_sessions', ['astrologer_id', 'status'], unique=False)
    op.create_index(op.f('ix_consultation_sessions_next_charge_at'), 'consultation_sessions', ['next_charge_at'], unique=False)
    op.create_index(op.f('ix_consultation_sessions_user_id'), 'consultation_sessions', ['user_id'], unique=False)
    op.create_index('uq_consultation_sessions_one_open_per_user', 'consultation_sessions', ['user_id'], unique=True, postgresql_where=sa.text("status IN ('waiting', 'active')"), sqlite_where=sa.text("status IN ('waiting', 'active')"))

    op.create_table('user_profiles',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('avatar_url', sa.String(length=500), nullable=True),
    sa.Column('gender', sa.String(length=20), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('birth_time', sa.Time(), nullable=True),
    sa.Column('birth_place', sa.String(length=200), nullable=True),
    sa.Column('preferred_language', sa.String(length=40), nullable=True),
    sa.Column('current_balance', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('total_recharged', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('total_spent', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('sync_status', sa.Enum('local', 'synced', 'error', name='sync_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('last_sync_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sync_metadata', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('total_recharged >= 0', name=op.f('ck_user_profiles_total_recharged_not_negative')),
    sa.CheckConstraint('total_spent >= 0', name=op.f('ck_user_profiles_total_spent_not_negative')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_profiles_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_profiles')),
    sa.UniqueConstraint('user_id', name=op.f('uq_user_profiles_user_id'))
    )
    op.create_table('wallets',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('current_balance', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('available_balance', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('held_balance', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.Enum('active', 'frozen', name='wallet_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('available_balance >= 0', name=op.f('ck_wallets_available_not_negative')),
    sa.CheckConstraint('current_balance = available_balance + held_balance', name=op.f('ck_wallets_current_is_available_plus_held')),
    sa.CheckConstraint('held_balance >= 0', name=op.f('ck_wallets_held_not_negative')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_wallets_user_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallets')),
    sa.UniqueConstraint('user_id', name=op.f('uq_wallets_user_id'))
    )
    op.create_table('billing_transactions',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('wallet_id', sa.Uuid(), nullable=False),
    sa.Column('session_id', sa.Uuid(), nullable=True),
    sa.Column('type', sa.Enum('topup', 'hold', 'release', 'charge', 'earning', 'commission', 'refund', 'reversal', 'payout', name='billing_type', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('pending', 'completed', 'failed', 'cancelled', name='billing_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('amount', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('reference_id', sa.String(length=200), nullable=True),
    sa.Column('minute', sa.Integer(), nullable=True),
    sa.Column('description', sa.String(length=500), nullable=True),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_billing_transactions_amount_positive')),
    sa.CheckConstraint('minute IS NULL OR minute >= 1', name=op.f('ck_billing_transactions_minute_positive')),
    sa.ForeignKeyConstraint(['session_id'], ['consultation_sessions.id'], name=op.f('fk_billing_transactions_session_id_consultation_sessions')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_billing_transactions_user_id_users')),
    sa.ForeignKeyConstraint(['wallet_id'], ['wallets.id'], name=op.f('fk_billing_transactions_wallet_id_wallets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_transactions')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_billing_transactions_idempotency_key'))
    )
    op.create_index('ix_billing_transactions_created_at', 'billing_transactions', ['created_at'], unique=False)
    op.create_index(op.f('ix_billing_transactions_reference_id'), 'billing_transactions', ['reference_id'], unique=False)
    op.create_index(op.f('ix_billing_transactions_session_id'), 'billing_transactions', ['session_id'], unique=False)
    op.create_index(op.f('ix_billing_transactions_user_id'), 'billing_transactions', ['user_id'], unique=False)
    op.create_index(op.f('ix_billing_transactions_wallet_id'), 'billing_transactions', ['wallet_id'], unique=False)

    op.create_table('messages',
    sa.Column('session_id', sa.Uuid(), nullable=False),
    sa.Column('sender_id', sa.Uuid(), nullable=True),
    sa.Column('message_type', sa.Enum('text', 'system', name='message_type', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('client_message_id', sa.String(length=64), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("message_type = 'system' OR sender_id IS NOT NULL", name=op.f('ck_messages_sender_unless_system')),
    sa.CheckConstraint('length(content) BETWEEN 1 AND 4000', name=op.f('ck_messages_content_length')),
    sa.CheckConstraint('seq >= 1', name=op.f('ck_messages_seq_positive')),
    sa.ForeignKeyConstraint(['sender_id'], ['users.id'], name=op.f('fk_messages_sender_id_users')),
    sa.ForeignKeyConstraint(['session_id'], ['consultation_sessions.id'], name=op.f('fk_messages_session_id_consultation_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages')),
    sa.UniqueConstraint('session_id', 'sender_id', 'client_message_id', name=op.f('uq_messages_session_id_sender_id_client_message_id')),
    sa.UniqueConstraint('session_id', 'seq', name=op.f('uq_messages_session_id_seq'))
    )
    op.create_table('session_participants',
    sa.Column('session_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.Enum('user', 'astrologer', name='participant_role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('left_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disconnected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_read_seq', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['consultation_sessions.id'], name=op.f('fk_session_participants_session_id_consultation_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_session_participants_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_participants')),
    sa.UniqueConstraint('session_id', 'user_id', name=op.f('uq_session_participants_session_id_user_id'))
    )
    op.create_index(op.f('ix_session_participants_user_id'), 'session_participants', ['user_id'], unique=False)

    op.create_table('wallet_transactions',
    sa.Column('wallet_id', sa.Uuid(), nullable=False),
    sa.Column('billing_transaction_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('type', sa.Enum('credit', 'debit', name='wallet_entry_type', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('amount', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('balance_before', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('balance_after', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("(type = 'credit' AND balance_after = balance_before + amount) OR (type = 'debit' AND balance_after = balance_before - amount)", name=op.f('ck_wallet_transactions_balance_follows_amount')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_wallet_transactions_amount_positive')),
    sa.CheckConstraint('balance_before >= 0 AND balance_after >= 0', name=op.f('ck_wallet_transactions_balances_not_negative')),
    sa.ForeignKeyConstraint(['billing_transaction_id'], ['billing_transactions.id'], name=op.f('fk_wallet_transactions_billing_transaction_id_billing_transactions')),
    sa.ForeignKeyConstraint(['wallet_id'], ['wallets.id'], name=op.f('fk_wallet_transactions_wallet_id_wallets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_transactions')),
    sa.UniqueConstraint('wallet_id', 'seq', name=op.f('uq_wallet_transactions_wallet_id_seq'))
    )
    op.create_index(op.f('ix_wallet_transactions_billing_transaction_id'), 'wallet_transactions', ['billing_transaction_id'], unique=False)



def downgrade():
    op.drop_index(op.f('ix_wallet_transactions_billing_transaction_id'), table_name='wallet_transactions')

    op.drop_table('wallet_transactions')
    op.drop_index(op.f('ix_session_participants_user_id'), table_name='session_participants')

    op.drop_table('session_participants')
    op.drop_table('messages')
    op.drop_index(op.f('ix_billing_transactions_wallet_id'), table_name='billing_transactions')
    op.drop_index(op.f('ix_billing_transactions_user_id'), table_name='billing_transactions')
    op.drop_index(op.f('ix_billing_transactions_session_id'), table_name='billing_transactions')
    op.drop_index(op.f('ix_billing_transactions_reference_id'), table_name='billing_transactions')
    op.drop_index('ix_billing_transactions_created_at', table_name='billing_transactions')

    op.drop_table('billing_transactions')
    op.drop_table('wallets')
    op.drop_table('user_profiles')
    op.drop_index('uq_consultation_sessions_one_open_per_user', table_name='consultation_sessions', postgresql_where=sa.text("status IN ('waiting', 'active')"), sqlite_where=sa.text("status IN ('waiting', 'active')"))
    op.drop_index(op.f('ix_consultation_sessions_user_id'), table_name='consultation_sessions')
    op.drop_index(op.f('ix_consultation_sessions_next_charge_at'), table_name='consultation_sessions')
    op.drop_index('ix_consultation_sessions_astrologer_status', table_name='consultation_sessions')
    op.drop_index(op.f('ix_consultation_sessions_astrologer_id'), table_name='consultation_sessions')

    op.drop_table('consultation_sessions')
    op.drop_table('astrologer_profiles')
    op.drop_table('users')
