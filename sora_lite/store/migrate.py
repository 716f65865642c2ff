"""Bring an existing database up to the current tables without losing anything.

`create_all` makes missing tables but never changes an existing one, so a database from before a column was
added would fail on the first query. `add_missing_columns` adds each missing column with
`ALTER TABLE ... ADD COLUMN` (nullable, or with its server default, so old rows get a value) and its index;
nothing is dropped or rewritten. On SQLite it also keeps the FTS5 prompt index (`clip_fts`) with triggers,
filled once from the rows already there.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine, inspect, text
from sqlalchemy.schema import CreateIndex

from sora_lite.store.models import Base

log = logging.getLogger("sora_lite.store")

FTS_TABLE = "clip_fts"
_FTS_SQL = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "clip_id UNINDEXED, prompt, tokenize = 'unicode61 remove_diacritics 2')",
    # keep the index in step with the clips table, whoever writes it (the studio, a test, a script)
    f"CREATE TRIGGER IF NOT EXISTS clips_fts_insert AFTER INSERT ON clips BEGIN "
    f"INSERT INTO {FTS_TABLE}(clip_id, prompt) VALUES (new.id, new.prompt); END",
    f"CREATE TRIGGER IF NOT EXISTS clips_fts_update AFTER UPDATE OF prompt ON clips BEGIN "
    f"DELETE FROM {FTS_TABLE} WHERE clip_id = old.id; "
    f"INSERT INTO {FTS_TABLE}(clip_id, prompt) VALUES (new.id, new.prompt); END",
    f"CREATE TRIGGER IF NOT EXISTS clips_fts_delete AFTER DELETE ON clips BEGIN "
    f"DELETE FROM {FTS_TABLE} WHERE clip_id = old.id; END",
]


def add_missing_columns(engine: Engine) -> list[str]:
    """Add every model column the database lacks; returns "table.column" for each one added."""
    added: list[str] = []
    with engine.connect() as conn:  # one connection: SQLite's BEGIN IMMEDIATE would lock out a second one
        inspector = inspect(conn)
        tables = set(inspector.get_table_names())
        for table in Base.metadata.sorted_tables:
            if table.name not in tables:
                continue
            have = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in have:
                    continue
                if not column.nullable and column.server_default is None:
                    raise RuntimeError(f"cannot add {table.name}.{column.name} to an existing database: it needs "
                                       "a server default or must be nullable")
                kind = column.type.compile(dialect=engine.dialect)
                default = ""
                if column.server_default is not None:
                    value = str(column.server_default.arg).replace("'", "''")
                    default = f" DEFAULT '{value}'"  # quoted: SQLite and PostgreSQL both read '1' as true
                null = "" if column.nullable else " NOT NULL"
                conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}{default}{null}'))
                added.append(f"{table.name}.{column.name}")
            have_indexes = {i["name"] for i in inspector.get_indexes(table.name)}
            for index in table.indexes:
                if index.name not in have_indexes:
                    conn.execute(CreateIndex(index, if_not_exists=True))
        conn.commit()
    if added:
        log.info("database schema: added %s", ", ".join(added))
    return added


def ensure_search_index(engine: Engine) -> bool:
    """SQLite: the FTS5 prompt index and its triggers, filled from existing clips. False where the database is
    not SQLite (search then reads the prompts with the database's LIKE) or its SQLite lacks FTS5."""
    if engine.dialect.name != "sqlite":
        return False
    with engine.connect() as conn:
        try:
            for statement in _FTS_SQL:
                conn.execute(text(statement))
        except Exception as exc:  # an SQLite built without FTS5
            log.warning("no FTS5 in this SQLite (%s): search falls back to LIKE", exc)
            conn.rollback()
            return False
        conn.execute(text(f"INSERT INTO {FTS_TABLE}(clip_id, prompt) SELECT id, prompt FROM clips "
                          f"WHERE id NOT IN (SELECT clip_id FROM {FTS_TABLE})"))
        conn.commit()
    return True


_HAS_INDEX: dict[int, bool] = {}


def has_search_index(engine: Engine) -> bool:
    """Whether this database has the FTS5 index (asked once per engine; call it outside an open session)."""
    if engine.dialect.name != "sqlite":
        return False
    if id(engine) not in _HAS_INDEX:
        with engine.connect() as conn:
            found = conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = :n"), {"n": FTS_TABLE}).first() is not None
            conn.rollback()
        _HAS_INDEX[id(engine)] = found
    return _HAS_INDEX[id(engine)]
