"""Column types shared by every model: UUID keys, money, UTC timestamps, JSON.

Money is exact on both backends: NUMERIC(10,2) on PostgreSQL; on SQLite,
whose NUMERIC is a float, it is stored as whole paise so that sums and the
wallet CHECK (current = available + held) are exact integer arithmetic.
Floats are refused at bind time: money is Decimal end to end.
"""

import os
import time
import uuid
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from sqlalchemy import JSON, DateTime, Integer, Numeric, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

PAISE = Decimal("0.01")


def utcnow():
    """The current time, timezone-aware UTC (the only clock models use)."""
    return datetime.now(UTC)


def new_uuid():
    return uuid.uuid4()


def new_ordered_uuid():
    """A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, the version, 74 random bits. Rows written
    over time land at the right edge of their primary-key index instead of anywhere in it; the
    database's uuid7() (migration 0018) makes the same layout for the set-based batch."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10)) & ((1 << 80) - 1)
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    return uuid.UUID(int=value & ~(0x3 << 62) | 0x2 << 62)  # the RFC variant


def to_money(value):
    """A Decimal rounded half-up to paise; refuses float, which cannot hold money exactly."""
    if isinstance(value, float):
        raise TypeError("money must be Decimal, int or str, never float")
    return Decimal(value).quantize(PAISE, rounding=ROUND_HALF_UP)


class Decimal2(TypeDecorator):
    """An exact number with two decimal places, as Decimal (money, rating averages)."""

    impl = Numeric
    cache_ok = True

    def __init__(self, precision=10):
        super().__init__(precision, 2, asdecimal=True)

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Integer())
        return dialect.type_descriptor(self.impl)

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        amount = to_money(value)
        if dialect.name == "sqlite":
            return int(amount * 100)
        return amount

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / 100).quantize(PAISE)
        return Decimal(value).quantize(PAISE)


class UTCDateTime(TypeDecorator):
    """A timestamp that is always timezone-aware UTC in Python.

    PostgreSQL stores timestamptz; SQLite stores naive UTC text.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; pass an aware UTC datetime (utcnow())")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def decimal2_between(column, low, high, name):
    """CHECK (column IS NULL OR low <= column <= high) for a Decimal2 column, on both backends.

    SQLite stores Decimal2 as whole hundredths (a rating of 4.50 is 450), so its bounds are
    scaled; each CHECK is created only on its own backend.
    """
    sql = "{c} IS NULL OR {c} BETWEEN {low} AND {high}"
    return (
        sa.CheckConstraint(sql.format(c=column, low=low, high=high), name=name).ddl_if(dialect="postgresql"),
        sa.CheckConstraint(sql.format(c=column, low=low * 100, high=high * 100), name=name).ddl_if(dialect="sqlite"),
    )


#: A rupee amount: Decimal2 under the name the models read as.
Money = Decimal2

#: JSONB on PostgreSQL (indexable, compact), JSON text on SQLite. Python None is SQL NULL (not the
#: JSON value null), so "nothing to say" reads as NULL to every other system.
JSONType = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")

UUIDType = Uuid(as_uuid=True)


def alembic_compare_type(context, inspected_column, metadata_column, inspected_type, metadata_type):
    """Alembic hook: Decimal2 is NUMERIC(p, 2) in every migration, whatever SQLite stores in it.

    Returns False (no change) when a Decimal2 column is a NUMERIC of the same
    precision and scale, None (Alembic decides) otherwise.
    """
    if isinstance(metadata_type, Decimal2) and isinstance(inspected_type, Numeric):
        same = (inspected_type.precision, inspected_type.scale) == (metadata_type.impl.precision, 2)
        return not same
    return None
