"""The notes a command collects for its JSON document (with ``-o json`` they go there, never onto
stderr): a module of its own, read by ``_base.emit_json`` and filled by ``_notes``, so that
neither imports the other for it."""

from __future__ import annotations

from contextvars import ContextVar

JSON_NOTES: ContextVar[list[str] | None] = ContextVar("json_notes", default=None)
