"""Writing a batch's output file so that nothing is lost, whatever happens mid-run.

A ledger run can take minutes; it can be interrupted, killed, or pointed at the wrong file.
So every argument is checked before anything is opened for writing, the output never names
the input, and the output is written to a temporary file beside the target and renamed
into place only when the run is complete: an interrupted run leaves the old file (or none),
never a partial file that looks finished.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO, TypeVar, cast

from ._errors import EcorulesError


class OutputError(EcorulesError):
    """An output path that cannot be written, or must not be."""


def check_output(output: str, inputs: tuple[str, ...]) -> Path:
    """The output path, once it is known to be writable and to be none of ``inputs``."""
    path = Path(output)
    try:
        if path.is_symlink():  # write where the link points, and keep the link
            path = path.resolve()
        parent = path.parent
        if not parent.is_dir():
            raise OutputError(f"`{output}`: no such directory `{parent}`")
        if path.is_dir():
            raise OutputError(f"`{output}` is a directory")
        if path.exists():
            for source in inputs:
                if source != "-" and Path(source).exists() and path.samefile(source):
                    raise OutputError(f"`{output}` is the input `{source}`: it would be lost")
        if not os.access(parent, os.W_OK):
            raise OutputError(f"`{output}`: the directory `{parent}` is not writable")
    except OSError as exc:  # a name too long, a loop of links
        raise OutputError(f"`{output[:200]}`: {exc.strerror}") from None
    return path


@contextlib.contextmanager
def atomic_output(path: Path, *, bom: bool = False) -> Iterator[TextIO]:
    """A text file that becomes ``path`` only if the block completes. ``bom``: begin it
    with a UTF-8 byte-order mark, without which Excel on Chinese Windows reads a CSV file
    as GBK and shows mojibake."""
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, on every path
        "w",
        encoding="utf-8-sig" if bom else "utf-8",
        newline="",
        dir=path.parent,
        prefix=f".{path.name}.",
        suffix=".partial",
        delete=False,
    )
    try:
        with handle:
            yield cast(TextIO, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, _mode_for(path))
        os.replace(handle.name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(handle.name)
        raise


def _mode_for(path: Path) -> int:
    """The existing file's permissions, or what a plain open() would have given."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


T = TypeVar("T")


def write_atomically(path: Path, write: Callable[[Path], T]) -> T:
    """``write(temporary_path)`` — for libraries that write files themselves, such as an
    Excel workbook — then the temporary file renamed to ``path``, only if it returned."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    os.close(fd)
    try:
        result = write(Path(name))
        os.chmod(name, _mode_for(path))
        os.replace(name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    return result


def write_text_output(text: str, output: str | None, inputs: tuple[str, ...] = ()) -> None:
    """``text`` to standard output, or to ``output`` whole (checked, then replaced only once
    written): for the commands that make their text before writing it."""
    if output is None:
        sys.stdout.write(text)
        return
    with atomic_output(check_output(output, inputs)) as out:
        out.write(text)
