"""Atomic writes and small file helpers shared by every stage.

Single files are written to a temporary sibling and moved into place (:func:`atomic_open`).
A whole output folder is written into a hidden staging sibling and swapped in at the end
(:class:`StagedFolder`), under an exclusive lock (:func:`output_lock`), so readers only
ever see one complete generation of it.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
import secrets
import shutil
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from .errors import OutputFolderError


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path`` and move it into place on success.

    An interrupted write (exception, Ctrl-C, SIGTERM) leaves no partial file at ``path`` and
    no temporary file: the temporary name is chosen before the file is created, so even an
    interrupt that lands during creation is cleaned up. Only SIGKILL can leave a hidden
    ``.tmp`` sibling behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    binary = "b" in mode
    tmp_name = path.parent / f".{path.name}.{secrets.token_hex(16)}.tmp"
    try:
        fd = os.open(tmp_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        with os.fdopen(fd, mode, encoding=None if binary else encoding, newline=None if binary else "") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8, ``\\n`` line ends)."""
    with atomic_open(path, "w") as handle:
        handle.write(text)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb", encoding=None) as handle:
        handle.write(data)


def write_jsonl(path: str | Path, rows: Iterable[dict[str, Any]]) -> int:
    """Write rows as UTF-8 JSON Lines atomically; return the number of rows."""
    count = 0
    with atomic_open(path, "w") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n")
            count += 1
    return count


OUTPUT_MARKER = ".stance-output"
"""Name of the marker file in every folder ``stance`` writes; the corpus reader skips such folders."""


def lock_path(target: str | Path) -> Path:
    """The lock file of an output path: a hidden sibling, ``.<name>.stance-lock``."""
    target = _absolute(target)
    return target.parent / f".{target.name}.stance-lock"


def staging_path(target: str | Path, pid: int | None = None) -> Path:
    """The staging folder of an output folder: a hidden sibling, ``.<name>.stance-tmp-<pid>``."""
    target = _absolute(target)
    return target.parent / f".{target.name}.stance-tmp-{os.getpid() if pid is None else pid}"


def partial_path(target: str | Path) -> Path:
    """The folder a resumable run writes into until it is complete: ``.<name>.stance-partial``.

    Unlike a staging folder it outlives an interrupted run (``stance analyze --resume``).
    """
    target = _absolute(target)
    return target.parent / f".{target.name}.stance-partial"


def _absolute(target: str | Path) -> Path:
    """``target`` made absolute and normalised (``out/..`` has a real name and parent); symlinks are kept."""
    return Path(os.path.abspath(target))


def _aside_path(target: Path) -> Path:
    """Where the previous output waits while the new one is renamed into place."""
    return target.parent / f".{target.name}.stance-old-{os.getpid()}"


def _check_parent_writable(target: Path) -> None:
    """Create ``target``'s parent if needed and make sure files can be created in it."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputFolderError(f"{target.parent}: cannot create the output's parent folder: {exc.strerror or exc}") from exc
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise OutputFolderError(f"{target.parent}: the output's parent folder is not writable")


@contextlib.contextmanager
def output_lock(target: str | Path) -> Iterator[Path]:
    """Hold an exclusive lock on an output path for the duration of a run.

    The lock is ``flock`` on :func:`lock_path` (released by the kernel when the process
    dies, so a killed run never leaves a stale lock). The lock file itself stays.

    Raises
    ------
    OutputFolderError
        If the parent folder is not writable or another run holds the lock.
    """
    import fcntl

    target = _absolute(target)
    _check_parent_writable(target)
    path = lock_path(target)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise OutputFolderError(f"{target.parent}: cannot create files in the output's parent folder: {exc.strerror or exc}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise OutputFolderError(
                f"{target}: another stance run is writing this output (lock {path.name} is held); wait for it to finish "
                "or choose another --out") from exc
        yield path
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def clean_stale_staging(target: str | Path) -> list[Path]:
    """Remove staging folders of ``target`` left by dead runs; return what was removed.

    A previous output moved aside by a run that died before finishing the swap is moved
    back when ``target`` is missing, and removed otherwise.
    """
    target = _absolute(target)
    removed: list[Path] = []
    if not target.parent.is_dir():
        return removed
    for kind in ("old", "tmp"):  # the old output first: it may be needed to restore ``target``
        for path in sorted(target.parent.glob(f".{glob.escape(target.name)}.stance-{kind}-*")):
            pid = path.name.rpartition("-")[2]
            if not pid.isdigit() or _pid_alive(int(pid)):
                continue
            if kind == "old" and not target.exists():
                os.rename(path, target)
                continue
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _marker_kind(path: Path) -> str:
    """The kind of output a marker file names (its first line)."""
    try:
        return path.read_text(encoding="utf-8", errors="replace").partition("\n")[0].strip() or "output"
    except OSError:
        return "unknown"


def clean_stale_temp_files(target: str | Path) -> list[Path]:
    """Remove temporary siblings of ``target`` that :func:`atomic_open` left when killed (SIGKILL).

    Call it only while holding :func:`output_lock` on ``target``: then no live run is writing them.
    """
    target = _absolute(target)
    removed = sorted(target.parent.glob(f".{glob.escape(target.name)}.*.tmp")) if target.parent.is_dir() else []
    for path in removed:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return removed


class StagedFolder:
    """An output folder written as a whole: staged in a hidden sibling, swapped in at the end.

    Use as a context manager around the writing, then call :meth:`commit`. Leaving the
    block without committing (exception, Ctrl-C, SIGTERM) removes the staging folder and
    leaves the previous output untouched.

    Parameters
    ----------
    target : str or Path
        The output folder.
    known : collection of str
        The names ``stance`` writes here; a folder holding anything else is not replaced.
    kind : str
        What the folder holds (``"report"``, ``"plots"``), written into the marker; a folder
        whose marker names another kind is not replaced.
    keep : bool
        Write into :func:`partial_path` instead, reusing what an interrupted run left there,
        and keep it when leaving without committing (a resumable run).

    Raises
    ------
    OutputFolderError
        If ``target`` is a file, or a folder with other content (it is never replaced).

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "out"
    >>> with StagedFolder(out) as staged:
    ...     _ = (staged.path / "a.txt").write_text("new")
    ...     staged.commit()
    >>> sorted(p.name for p in out.iterdir()), staged.committed
    (['.stance-output', 'a.txt'], True)
    """

    def __init__(self, target: str | Path, known: Collection[str] = (), kind: str = "output", *,
                 keep: bool = False) -> None:
        self.target = _absolute(target)
        if self.target.is_symlink() and self.target.is_dir():  # replace the real folder, keep the link
            self.target = self.target.resolve()
        self.known = frozenset(known)
        self.kind = kind
        self.keep = keep
        self.path = partial_path(self.target) if keep else staging_path(self.target)
        self.committed = False

    def check(self) -> None:
        """Raise :class:`OutputFolderError` unless ``target`` may be replaced."""
        check_replaceable(self.target, self.known, self.kind)

    def __enter__(self) -> StagedFolder:
        self.check()
        _check_parent_writable(self.target)
        clean_stale_staging(self.target)
        if not self.keep:
            shutil.rmtree(self.path, ignore_errors=True)
        try:
            self.path.mkdir(exist_ok=self.keep)
        except OSError as exc:
            raise OutputFolderError(f"{self.path}: cannot create the staging folder: {exc.strerror or exc}") from exc
        return self

    def commit(self) -> None:
        """Write the marker and swap the staging folder in place of ``target``."""
        atomic_write_text(self.path / OUTPUT_MARKER, f"{self.kind}\nwritten by stance; the corpus reader skips this folder\n")
        self.check()  # the folder may have changed since the run started
        old = _aside_path(self.target)
        moved = False
        shutil.rmtree(old, ignore_errors=True)  # left by an earlier run that had this pid
        if self.target.exists() or self.target.is_symlink():
            os.rename(self.target, old)
            moved = True
        try:
            os.rename(self.path, self.target)
        except BaseException:
            if moved and not self.target.exists():
                os.rename(old, self.target)
            raise
        self.committed = True
        if moved:
            shutil.rmtree(old, ignore_errors=True)

    def __exit__(self, *exc: object) -> None:
        if not self.committed and not self.keep:
            shutil.rmtree(self.path, ignore_errors=True)


def check_replaceable(target: Path, known: Collection[str], kind: str = "output") -> None:
    """Raise :class:`OutputFolderError` unless ``target`` may be replaced as a whole.

    It may when it is absent or empty, or when it holds only ``known`` names (and a marker,
    :data:`OUTPUT_MARKER`, naming ``kind``): a file someone else put into an output folder
    is never deleted.
    """
    if not (target.exists() or target.is_symlink()):
        return
    here = Path.cwd().resolve()
    if target.resolve() == here or target.resolve() in here.parents:
        raise OutputFolderError(f"{target}: is the current folder or contains it; choose a subfolder for --out")
    if not target.is_dir() or target.is_symlink():
        raise OutputFolderError(f"{target}: exists and is a file or a symbolic link, not a folder; choose a folder for --out")
    try:
        names = {p.name for p in target.iterdir()}
    except OSError as exc:
        raise OutputFolderError(f"{target}: cannot list the output folder: {exc.strerror or exc}") from exc
    if OUTPUT_MARKER in names:
        marked = _marker_kind(target / OUTPUT_MARKER)
        if marked != kind:
            raise OutputFolderError(f"{target}: holds stance {marked} output, not {kind} output; choose another folder for --out")
        names.discard(OUTPUT_MARKER)
    if names <= set(known):  # with or without a marker, files someone else put here are never deleted
        return
    other = sorted(names - set(known))
    shown = ", ".join(other[:5]) + (f" and {len(other) - 5} more" if len(other) > 5 else "")
    raise OutputFolderError(
        f"{target}: the folder holds files stance did not write ({shown}); it is replaced as a whole, so choose a new "
        "or empty folder for --out")


_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def escape_control(text: object) -> str:
    r"""``str(text)`` with control characters shown as escapes, safe to print on a terminal.

    C0/C1 controls (ESC, BEL, newline, ...), line separators and bidirectional overrides are
    written as Python escapes, so input text can neither move the cursor, retitle the
    window nor reorder what is shown.

    Examples
    --------
    >>> print(escape_control("\x1b]2;PWNED\x07\x1b[31mred\nnext \u202eevil"))
    \x1b]2;PWNED\x07\x1b[31mred\nnext \u202eevil
    """
    return _CONTROL_RE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(text))
