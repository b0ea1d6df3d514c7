"""Text typed into a search box, matched in SQL the same way on SQLite and PostgreSQL."""
from __future__ import annotations

from sqlalchemy import ColumnElement, func

from ..extensions import db


def like_pattern(text: str) -> str:
    """A LIKE pattern for `text` anywhere, lower-cased, its wildcards escaped (used with
    escape="\\")."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contains(column, text: str) -> ColumnElement:
    """`text` anywhere in `column`, ignoring case. SQLite's LIKE ignores ASCII case by itself;
    its lower() is the app's Unicode-aware Python function, one call per row scanned."""
    if db.engine.dialect.name == "sqlite":
        return column.like(like_pattern(text), escape="\\")
    return column.ilike(like_pattern(text), escape="\\")


def equals_ignoring_case(column, text: str) -> ColumnElement:
    if db.engine.dialect.name == "sqlite":
        return column.collate("NOCASE") == text
    return func.lower(column) == text.lower()
