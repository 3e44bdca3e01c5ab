"""The one adapter from the module's errors to Pulumi's plain ``RunError``.

Pulumi prints a ``RunError`` as its message, without a traceback. The error keeps its own class
as well (an upgrade guard refusal is still an ``UpgradeGuardError``), so a caller can tell one
refusal from another, and the command line's table still applies.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pulumi

from ..errors import PerconaPgOperatorError

# One RunError class per error class, made when first needed (a handful at most).
_CLASSES: dict[type[PerconaPgOperatorError], type[PerconaPgOperatorError]] = {}


def _run_error_class(kind: type[PerconaPgOperatorError]) -> type[PerconaPgOperatorError]:
    """``kind`` that is also a ``pulumi.RunError``."""
    made = _CLASSES.get(kind)
    if made is None:
        made = _CLASSES[kind] = type(
            kind.__name__, (kind, pulumi.RunError), {"__module__": __name__}
        )
    return made


def as_run_error(exc: PerconaPgOperatorError) -> PerconaPgOperatorError:
    """The same error, with the same message and attributes, as a ``pulumi.RunError``."""
    if isinstance(exc, pulumi.RunError):
        return exc
    kind = _run_error_class(type(exc))
    error = kind.__new__(kind)
    Exception.__init__(error, *exc.args)
    error.__dict__.update(exc.__dict__)
    return error


@contextmanager
def run_errors() -> Iterator[None]:
    """Inside: the module's errors leave as ``RunError`` (a refusal, bad input), no traceback."""
    try:
        yield
    except PerconaPgOperatorError as exc:
        raise as_run_error(exc) from None
