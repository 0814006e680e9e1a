"""The migrated schema against the product owner's: every seed table, column, type, nullability,
key and enum value of ../shared/SEED_SCHEMA.md, read from the database itself (information the
inspector gets from PostgreSQL's catalogue or SQLite's CREATE TABLE), on the suite's freshly
migrated database: PostgreSQL in CI's first run, SQLite in its second.

The product may add columns, tables and enum values; where it departs from the seed it says why
in the model module's docstring, and DEPARTURES below names each place (the test checks that the
docstring mentions it).
"""

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import consultation, ledger, user

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "SEED_SCHEMA.md"
COPY = ROOT / "docs" / "seed_schema.md"  # the same text, for clones that sit without ../shared

#: (table, column) -> what differs and the module whose docstring says why.
DEPARTURES = {
    ("users", "phone"): ("nullable", user),
    ("users", "external_id"): ("nullable", user),
    ("messages", "sender_id"): ("nullable", consultation),
    ("session_participants", "joined_at"): ("nullable", consultation),
}


@dataclass(frozen=True)
class SeedColumn:
    table: str
    name: str
    spec: str  # as written, e.g. "VARCHAR(255), nullable" or "ENUM: 'user', 'astrologer'"

    @property
    def nullable(self):
        return "nullable" in self.spec

    @property
    def enum_values(self):
        return re.findall(r"'([^']*)'", self.spec.split(":", 1)[1]) if self.spec.startswith("ENUM") else []

    @property
    def base(self):
        return re.split(r",\s|:", self.spec, maxsplit=1)[0].strip()


def _seed_text():
    for path in (SHARED, COPY):
        if path.exists():
            return path.read_text(encoding="utf-8")
    pytest.skip(f"the seed schema is not here: neither {SHARED} nor {COPY} exists")


def seed_schema(text):
    """{table: [SeedColumn]} from the markdown: a `## table` heading, then `| column | type |` rows."""
    tables, table = {}, None
    for line in text.splitlines():
        heading = re.match(r"^## (\w+)\s*$", line)
        if heading:
            table = heading.group(1)
            tables[table] = []
            continue
        row = re.match(r"^\| (\w+) \| (.+?) \|\s*$", line)
        if table and row and row.group(1) != "column":
            tables[table].append(SeedColumn(table, row.group(1), row.group(2)))
    return tables


SEED = seed_schema(COPY.read_text(encoding="utf-8")) if COPY.exists() else {}


def test_the_copy_in_docs_is_the_owners_text():
    if not SHARED.exists():
        pytest.skip(f"{SHARED} is not beside this clone; docs/seed_schema.md stands in for it")
    assert COPY.read_text(encoding="utf-8") == SHARED.read_text(encoding="utf-8")


def test_the_seed_has_nine_tables_with_columns():
    schema = seed_schema(_seed_text())
    assert len(schema) == 9 and all(len(columns) >= 9 for columns in schema.values())
    assert schema == SEED


def _inspector():
    return sa.inspect(db.engine)


def test_every_seed_table_exists(app):
    assert set(SEED) <= set(_inspector().get_table_names())


COLUMNS = [column for columns in SEED.values() for column in columns]


def _compatible(seed, column, dialect):
    """Whether the database column's type holds every value of the seed's type."""
    kind = column["type"]
    base = seed.base
    if base == "UUID":
        return isinstance(kind, sa.Uuid) or (dialect == "sqlite" and isinstance(kind, sa.CHAR) and kind.length == 32)
    if base.startswith("VARCHAR") or base == "ENUM":
        wanted = int(re.search(r"\((\d+)\)", base).group(1)) if "(" in base else 32
        return isinstance(kind, sa.String) and (kind.length is None or kind.length >= wanted)
    if base == "TEXT":
        return isinstance(kind, sa.Text) or (isinstance(kind, sa.String) and kind.length is None)
    if base.startswith("DECIMAL"):
        precision, scale = map(int, re.search(r"\((\d+),\s*(\d+)\)", base).groups())
        return isinstance(kind, sa.Numeric) and kind.scale == scale and (kind.precision or 0) >= precision
    if base == "INT":
        return isinstance(kind, sa.Integer)
    if base == "TIMESTAMP":
        return isinstance(kind, sa.DateTime)
    if base == "JSONB":
        return isinstance(kind, sa.JSON) or kind.__class__.__name__ == "JSONB"
    raise AssertionError(f"the seed's type {base!r} is not one this test knows")


@pytest.mark.parametrize("seed", COLUMNS, ids=[f"{c.table}.{c.name}" for c in COLUMNS])
def test_every_seed_column_exists_with_a_compatible_type_and_nullability(app, seed):
    columns = {column["name"]: column for column in _inspector().get_columns(seed.table)}
    assert seed.name in columns, f"{seed.table}.{seed.name} is missing"
    column = columns[seed.name]
    assert _compatible(seed, column, db.engine.dialect.name), f"{seed.table}.{seed.name}: {column['type']!r}"
    departure = DEPARTURES.get((seed.table, seed.name))
    if departure:
        what, module = departure
        assert what == "nullable" and column["nullable"]
        assert f"{seed.table}.{seed.name}" in module.__doc__, f"say why {seed.table}.{seed.name} departs"
    elif not seed.nullable:
        assert not column["nullable"], f"{seed.table}.{seed.name} must be NOT NULL, as the seed says"


def _check_values(table, column):
    """The values the CHECK constraints of `table` allow in `column`, from their SQL text (an IN list
    on SQLite, `= ANY (ARRAY[...])` on PostgreSQL)."""
    found = []
    for check in _inspector().get_check_constraints(table):
        text = check["sqltext"]
        listed = re.search(rf"\b{column}\b\)?(?:::[\w ]+)?\s*(?:IN\s*\(|=\s*ANY\s*\(\(?ARRAY\[)(.*?)[\])]", text)
        if listed:
            found.append(set(re.findall(r"'([^']*)'", listed.group(1))))
    assert len(found) == 1, f"{table}.{column}: expected one CHECK listing its values, found {found}"
    return found[0]


ENUMS = [column for column in COLUMNS if column.enum_values]


@pytest.mark.parametrize("seed", ENUMS, ids=[f"{c.table}.{c.name}" for c in ENUMS])
def test_every_seed_enum_value_is_accepted(app, seed):
    allowed = _check_values(seed.table, seed.name)
    assert set(seed.enum_values) <= allowed, f"{seed.table}.{seed.name} refuses {set(seed.enum_values) - allowed}"


KEYS = [column for column in COLUMNS if "PK" in column.spec or "FK" in column.spec or "UNIQUE" in column.spec]


@pytest.mark.parametrize("seed", KEYS, ids=[f"{c.table}.{c.name}" for c in KEYS])
def test_every_seed_key_is_declared(app, seed):
    inspector = _inspector()
    if "PK" in seed.spec:
        assert inspector.get_pk_constraint(seed.table)["constrained_columns"] == [seed.name]
    reference = re.search(r"FK → (\w+)\.(\w+)", seed.spec)
    if reference:
        assert any(
            fk["constrained_columns"] == [seed.name]
            and (fk["referred_table"], fk["referred_columns"]) == (reference.group(1), [reference.group(2)])
            for fk in inspector.get_foreign_keys(seed.table)
        ), f"{seed.table}.{seed.name} must reference {reference.group(0)[5:]}"
    if "UNIQUE" in seed.spec:
        unique = [u["column_names"] for u in inspector.get_unique_constraints(seed.table)]
        unique += [i["column_names"] for i in inspector.get_indexes(seed.table) if i["unique"]]
        assert [seed.name] in unique, f"{seed.table}.{seed.name} must be unique"


def test_session_participants_are_unique_per_session_and_user(app):
    unique = [u["column_names"] for u in _inspector().get_unique_constraints("session_participants")]
    assert ["session_id", "user_id"] in unique


@pytest.mark.parametrize("table", ["wallets", "billing_transactions"])
def test_currency_defaults_to_inr_in_the_database(app, table):
    currency = {c["name"]: c for c in _inspector().get_columns(table)}["currency"]
    assert "INR" in str(currency["default"])


@pytest.mark.parametrize("module", [user, consultation, ledger])
def test_every_model_module_lists_its_additions_with_reasons(module):
    assert "Additions, each with its reason" in module.__doc__


ENUM_COLUMNS = [
    (table.name, column.name, column.type)
    for table in db.metadata.sorted_tables
    for column in table.columns
    if isinstance(column.type, sa.Enum)
]


@pytest.mark.parametrize("table, column, kind", ENUM_COLUMNS, ids=[f"{t}.{c}" for t, c, _ in ENUM_COLUMNS])
def test_the_database_accepts_exactly_the_models_enum_values(app, table, column, kind):
    """The product's additions too: a value the code writes and the CHECK refuses is a 500 waiting."""
    assert _check_values(table, column) == set(kind.enums)
