"""Files: written so that no reader, and no crash, ever sees half of one; read only when they
are regular files of a bounded size, checked on the open file itself (a FIFO, a device such as
/dev/zero, or a directory is refused by kind before one byte is read, and never blocks)."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


class FileRefused(ValueError):
    """A file that is not read: its reason completes "<path> ...", e.g. "is not a regular file"."""


def read_regular(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; else :class:`FileRefused`."""
    try:
        # O_NONBLOCK: opening a FIFO for reading returns at once instead of waiting for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise FileRefused("no such file") from None
    except IsADirectoryError:
        raise FileRefused("is a directory, not a file") from None
    except OSError as exc:
        raise FileRefused(f"cannot be read ({exc.strerror or type(exc).__name__})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise FileRefused("is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused("is not a regular file")
        if info.st_size > max_bytes:
            raise FileRefused(f"is larger than {max_bytes} bytes")
        os.set_blocking(fd, True)
        chunks, total = [], 0
        while total <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise FileRefused(f"cannot be read ({exc.strerror or type(exc).__name__})") from None
    finally:
        os.close(fd)
    if total > max_bytes:  # it grew while being read
        raise FileRefused(f"is larger than {max_bytes} bytes")
    return b"".join(chunks)


def leads_out(path: Path, root: Path) -> bool:
    """Whether writing ``path`` would leave ``root``: its folder resolves (links followed)
    outside ``root``, or ``path`` itself is a link (a write would follow it)."""
    try:
        return path.is_symlink() or not path.parent.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # a loop of links
        return True


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers only ever see no file or the whole file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
