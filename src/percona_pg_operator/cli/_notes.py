"""The package's notes (``logging`` records of ``percona_pg_operator``: which chart source a run
used, a repository index that could not be read) as plain lines on stderr while a command runs.

Its own module so that ``logging`` loads only for commands that show notes, never for the
credential plugins."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import click


class _ClickStderr(logging.Handler):
    """One plain line per record on click's current stderr (a test runner's, when it swaps it)."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(record.getMessage(), err=True)


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
