"""The package's notes (``logging`` records of ``percona_pg_operator``: which chart source a run
used, a repository index that could not be read) as plain lines on stderr while a command runs.

Its own module so that ``logging`` loads only for commands that show notes, never for the
credential plugins."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from contextvars import ContextVar

import click

# The progress line a command shows now, so that a note ends it before printing.
_shown: ContextVar[_Progress | None] = ContextVar("shown_progress", default=None)


def end_progress_line() -> None:
    """End a progress line still open, so what follows starts on its own line."""
    progress = _shown.get()
    if progress is not None:
        progress.finish()


class _ClickStderr(logging.Handler):
    """One plain line per record on click's current stderr (a test runner's, when it swaps it),
    after ending a progress line that is still open."""

    def emit(self, record: logging.LogRecord) -> None:
        end_progress_line()
        click.echo(record.getMessage(), err=True)


@contextlib.contextmanager
def download_progress_on_a_terminal() -> Iterator[None]:
    """A cold chart download's progress on stderr, when stderr is a terminal; nothing piped."""
    if not sys.stderr.isatty():
        yield
        return
    from ..chart import download_progress

    progress = _Progress()
    token, shown = download_progress.set(progress), _shown.set(progress)
    try:
        yield
    finally:
        download_progress.reset(token)
        _shown.reset(shown)
        progress.finish()


@contextlib.contextmanager
def notes_on_stderr() -> Iterator[None]:
    logger = logging.getLogger("percona_pg_operator")
    handler = _ClickStderr()
    saved = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # a root handler someone configured would print them twice
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


class _Collect(logging.Handler):
    def __init__(self, notes: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.notes = notes

    def emit(self, record: logging.LogRecord) -> None:
        self.notes.append(record.getMessage())


@contextlib.contextmanager
def notes_in_json() -> Iterator[None]:
    """With -o json: the warnings go into the command's document (``notes``), not stderr,
    where Python's last-resort handler would print them."""
    from ._collected import JSON_NOTES

    logger = logging.getLogger("percona_pg_operator")
    notes: list[str] = []
    handler = _Collect(notes)
    saved = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    token = JSON_NOTES.set(notes)
    try:
        yield
    finally:
        JSON_NOTES.reset(token)
        logger.removeHandler(handler)
        logger.propagate = saved


class _Progress:
    """A one-line download indicator on a terminal's stderr."""

    def __init__(self) -> None:
        self.active = False

    def __call__(self, url: str, done: int, total: int | None) -> None:
        name = url.rsplit("/", 1)[-1]
        amount = f"{done * 100 // total}%" if total else f"{done // 1024} KiB"
        click.echo(f"\rdownloading {name} {amount}", err=True, nl=False)
        self.active = True

    def finish(self) -> None:
        """End the line (once; the next progress starts a new one)."""
        if self.active:
            click.echo("", err=True)
            self.active = False
