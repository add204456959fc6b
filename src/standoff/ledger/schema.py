"""The ledger's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Nothing is updated in place: a forecast is one row of `ledger_forecasts` with its probabilities in
`ledger_probabilities`; a revision is a new forecast row; every resolution is a new row of
`ledger_resolutions`, and the newest row of a (case, kind, item) is the one that counts.
Dates and times are ISO 8601 text (`recorded_at` in UTC with its offset), so they read and sort the
same on both databases. The migrations in `migrations/versions/` create these tables; a test
checks that the migrated database matches this metadata.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

# The table that records which migration a ledger is at (alembic's, under its own name, so that a
# PostgreSQL database shared with other alembic-managed applications keeps them apart).
VERSION_TABLE = "standoff_ledger_version"
# Every migration, oldest first (tests/test_ledger.py checks it against migrations/versions/).
REVISIONS = ("0001",)
HEAD = REVISIONS[-1]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

forecasts = Table(
    "ledger_forecasts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String, nullable=False),
    Column("case_hash", String),  # sha256 of the case file's bytes
    Column("recorded_at", String, nullable=False),  # UTC, ISO 8601
    Column("as_of", String),  # the date the forecast speaks from, YYYY-MM-DD
    Column("observed_hash", String),  # sha256 of the observation file, if conditioned
    Column("seed", BigInteger),
    Column("draws", BigInteger),
    Column("model", String),
    Column("standoff_version", String),
    Column("forecast", Text, nullable=False),  # the forecast JSON as recorded
    Index(None, "case_id", "id"),
)

probabilities = Table(
    "ledger_probabilities",
    metadata,
    Column("record_id", Integer, ForeignKey("ledger_forecasts.id"), primary_key=True),
    Column("position", Integer, primary_key=True),  # the item's place in the forecast
    Column("kind", String, nullable=False),  # "scenario" or "question"
    Column("item", String, nullable=False),  # the scenario's or question's id
    Column("p", Float, nullable=False),
)

resolutions = Table(
    "ledger_resolutions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String, nullable=False),
    Column("kind", String, nullable=False),  # "question" or "scenario"
    Column("item", String, nullable=False),  # the question's id; "" for the case's scenario
    Column("outcome", String, nullable=False),  # "yes" or "no"; the scenario that happened
    Column("scenario_order", Text),  # JSON list when the scenarios are ordered (adds the RPS)
    Column("resolved_on", String),  # the resolution file's `resolved:` date
    Column("note", Text),
    Column("source", Text),
    Column("file", Text),  # the resolution file it came from
    Column("recorded_at", String, nullable=False),
    Index(None, "case_id", "kind", "item", "id"),
)

TABLES = tuple(metadata.tables)
