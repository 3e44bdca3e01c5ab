"""The Pulumi program's entry point, where Pulumi projects name it (``__main__.py``:
``from percona_pg_operator.program import run``); the program itself is ``deploy/program.py``."""

from .deploy.program import run

__all__ = ["run"]
