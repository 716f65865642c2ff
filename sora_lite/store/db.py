"""Where the data lives and how to open it: the home folder, the database URL, sessions.

SQLite by default at `$SORA_LITE_HOME/sora_lite.db`; any SQLAlchemy URL via `SORA_LITE_DB`. The schema is
created on first start (`create_all` only adds missing tables; nothing is ever dropped). SQLite runs in WAL
mode with a busy timeout, and every transaction starts with `BEGIN IMMEDIATE`, so two threads (or two
processes) writing at once wait for each other instead of failing with "database is locked".
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from sora_lite.store.migrate import add_missing_columns, ensure_search_index
from sora_lite.store.models import Base

BUSY_TIMEOUT_S = 60.0


def home_dir() -> Path:
    """`$SORA_LITE_HOME`, else `/data/sora_lite` on a Space with persistent storage, else `~/.sora_lite`."""
    env = os.environ.get("SORA_LITE_HOME")
    if env:
        return Path(env).expanduser()
    data = Path("/data")
    if data.is_dir() and os.access(data, os.W_OK):
        return data / "sora_lite"
    return Path.home() / ".sora_lite"


def database_url(home: Path | None = None) -> str:
    """`$SORA_LITE_DB` if set, else the SQLite file in the home folder."""
    url = os.environ.get("SORA_LITE_DB")
    if url:
        return url
    home = home or home_dir()
    return f"sqlite:///{(home / 'sora_lite.db').resolve()}"


@dataclass
class Store:
    """An opened database: the SQLAlchemy engine and a session factory."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self.sessions() as session:
            with session.begin():
                yield session

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_events(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy (not pysqlite) emit BEGIN, so we can make it IMMEDIATE below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Take the write lock up front: a deferred read→write upgrade fails at once under contention.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def open_store(url: str | None = None, home: Path | str | None = None) -> Store:
    """Open (and on first start create) the database; never drops or wipes anything."""
    home_path = Path(home) if home is not None else home_dir()
    url = url or database_url(home_path)
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        home_path.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": BUSY_TIMEOUT_S, "check_same_thread": False}
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _sqlite_events(engine)
    Base.metadata.create_all(engine)  # checkfirst: only creates what is missing
    add_missing_columns(engine)  # columns added since this database was made (never drops anything)
    ensure_search_index(engine)  # SQLite: the FTS5 prompt index behind search
    return Store(url=url, engine=engine, sessions=sessionmaker(engine, expire_on_commit=False))
