"""Helm's own engine, in-process (helm-python-sdk, the ``render`` extra): rendering, the diff,
the upgrade plan and repair use it. One place says how to install it."""

from __future__ import annotations

from typing import Any

from ..errors import RenderError

# The render extra's one library: right however this package was installed (it is installed
# from its repository, not a package index).
INSTALL_HINT = "pip install 'helm-python-sdk>=0.2.2' (the render extra)"


def helm_engine(purpose: str = "rendering") -> Any:
    """The in-process Helm engine (helm-python-sdk), or the one message saying how to get it."""
    try:
        import helm_python
    except ImportError:
        raise RenderError(
            f"{purpose} needs the in-process Helm engine (helm-python-sdk): {INSTALL_HINT}"
        ) from None
    return helm_python
