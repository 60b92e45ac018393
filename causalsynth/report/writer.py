"""The one way causalsynth writes a file: atomically, never over an input, never half.

Every file the library and the command write (tables, reports, figures, JSON, saved
synthesizers, checkpoint parts) goes through :func:`write_file`:

1. the content is written to a new temporary file in the target's folder, created with
   ``O_CREAT | O_EXCL`` by :func:`tempfile.mkstemp` (a random name; a link planted there is
   never followed), then flushed and ``fsync``-ed;
2. the temporary file is renamed over the target (:func:`os.replace`, atomic on one file
   system), or, with ``exclusive=True``, hard-linked to it so that an existing file is never
   replaced even by a concurrent writer;
3. on any failure (a full disk, a killed write, an exception of the writer callback) the
   temporary file is removed and the target is untouched: a partial file is never left.

:class:`OutputPlan` is the command line's side: a command names its inputs and outputs before
any work starts; :meth:`OutputPlan.check` refuses, in one line naming the option, an output
that is an input or another output of the same call (compared as files: symbolic and hard
links included), an existing file without ``force``, a folder that is a file, an unwritable
folder or an unsupported suffix.
"""
from __future__ import annotations

import errno as _errno
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable

from ..errors import OutputDiskFullError, OutputError, OutputExistsError, SpecError

__all__ = ["write_file", "write_bytes", "write_text", "write_table", "save_figure", "check_stem",
           "same_file", "OutputPlan", "TABLE_SUFFIXES"]

#: Suffixes of the tables written by :func:`write_table` (CSV optionally compressed).
_COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".zip": "zip", ".xz": "xz", ".zst": "zstd"}
TABLE_SUFFIXES = (".csv", ".parquet", ".pq") + tuple(".csv" + c for c in _COMPRESSIONS)
_FULL = {_errno.ENOSPC, getattr(_errno, "EDQUOT", _errno.ENOSPC), getattr(_errno, "EFBIG", _errno.ENOSPC)}


def _umask() -> int:
    """The process umask, read without changing it (Linux: /proc), else the usual 022."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether ``a`` and ``b`` name one file: the same inode when both exist (symbolic and hard
    links included), else the same resolved path."""
    try:
        if os.path.exists(a) and os.path.exists(b):
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def check_stem(stem: Any, name: str = "stem") -> str:
    """``stem`` if it is a plain file name (no folder, no '..', not absolute), else SpecError."""
    bad = (not isinstance(stem, str) or not stem.strip() or stem in (".", "..") or "\x00" in stem
           or any(sep in stem for sep in {"/", "\\", os.sep, os.altsep or "/"}) or os.path.isabs(stem))
    if bad:
        raise SpecError(f"{name} must be a plain file name without a folder (e.g. 'report'); got {stem!r}. "
                        "Fix: pass the folder as out_dir and a bare name as the stem")
    return stem


def _first_existing(path: Path) -> Path:
    p = path
    while not os.path.lexists(p) and p != p.parent:
        p = p.parent
    return p


def _check_folder(folder: Path, target: Path, what: str) -> None:
    """The folder of ``target`` is a folder (or can be created as one) that we may write."""
    base = _first_existing(folder)
    if os.path.islink(base) and not os.path.exists(base):
        raise OutputError(f"cannot write {what} {str(target)!r}: {str(base)!r} is a symbolic link to "
                          f"{os.readlink(base)!r}, which does not exist. Fix: create that folder or remove the link")
    if not base.is_dir():
        raise OutputError(f"cannot write {what} {str(target)!r}: cannot create the folder there, as {str(base)!r} "
                          "is a file, not a folder. Fix: choose a path whose folders are folders")
    if not os.access(base, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {what} {str(target)!r}: the folder {str(base)!r} is not writable. "
                          "Fix: choose a folder you can write", errno=_errno.EACCES)


def _typed(exc: OSError, target: Path, what: str) -> OutputError:
    if isinstance(exc, OutputError):
        return exc
    code = getattr(exc, "errno", None)
    if code in _FULL or "No space left" in str(exc):
        return OutputDiskFullError(f"cannot write {what} {str(target)!r}: the disk is full (or the quota spent); "
                                   "nothing was written there and no partial file is left. Fix: free some space "
                                   "and run again")
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return OutputError(f"cannot write {what} {str(target)!r}: {text}; nothing was written there. Fix: check the "
                       "folder's permissions and free space", errno=code)


def write_file(path: str | Path, write: Callable[[Any], Any], *, force: bool = True, exclusive: bool = False,
               what: str = "file") -> Path:
    """Write ``path`` atomically: ``write(fh)`` fills a binary file object of a new temporary
    file in the same folder, which then replaces ``path``.

    ``force=False`` refuses an existing ``path`` (:class:`OutputExistsError`); ``exclusive=True``
    publishes with a hard link, so an existing file is never replaced even by a concurrent
    writer. ``what`` names the file in messages (e.g. "--out"). Failures raise
    :class:`OutputError` (:class:`OutputDiskFullError` for a full disk) and leave nothing behind;
    an exception of ``write`` is re-raised after the clean-up.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if os.path.isdir(target):
        raise OutputError(f"cannot write {what} {str(target)!r}: it is a folder. Fix: give a file name in it")
    if (not force or exclusive) and os.path.lexists(target):
        raise OutputExistsError(f"{what} {str(target)!r} exists already; pass force=True (CLI: --force) to "
                                "replace it, or choose another name")
    _check_folder(folder, target, what)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _typed(exc, target, what) from exc
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:120]}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        if exclusive:
            _publish_new(tmp, target, what)
        else:
            os.replace(tmp, target)
        tmp = None
        _sync_folder(folder)
    except OSError as exc:
        raise _typed(exc, target, what) from exc
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return target


def _publish_new(tmp: str, target: Path, what: str) -> None:
    """Give ``tmp`` the name ``target`` only if no file has it (a hard link fails on an existing
    name, atomically); where hard links are not supported, check, then rename."""
    exists = OutputExistsError(f"{what} {str(target)!r} exists already (written by another run?); it was not "
                               "replaced")
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise exists from None
    except OSError as exc:
        if exc.errno not in (_errno.EPERM, _errno.ENOTSUP, _errno.EOPNOTSUPP, _errno.EXDEV, _errno.EMLINK,
                             getattr(_errno, "ENOSYS", -1)):
            raise
        if os.path.lexists(target):
            raise exists from None
        os.replace(tmp, target)
        return
    os.unlink(tmp)


def _sync_folder(folder: Path) -> None:
    """Make the rename durable (best effort: not every system can open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_bytes(path: str | Path, data: bytes, **kw) -> Path:
    return write_file(path, lambda fh: fh.write(data), **kw)


def write_text(path: str | Path, text: str, **kw) -> Path:
    return write_file(path, lambda fh: fh.write(text.encode("utf-8")), **kw)


def table_format(path: str | Path) -> tuple[str, str | None] | None:
    """("csv", compression) or ("parquet", None) for a table path, None for another suffix."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] in (".parquet", ".pq"):
        return "parquet", None
    if suffixes and suffixes[-1] == ".csv":
        return "csv", None
    if len(suffixes) >= 2 and suffixes[-2] == ".csv" and suffixes[-1] in _COMPRESSIONS:
        return "csv", _COMPRESSIONS[suffixes[-1]]
    return None


def write_table(frame, path: str | Path, **kw) -> Path:
    """``frame`` as CSV (optionally compressed, by suffix) or Parquet, atomically."""
    fmt = table_format(path)
    if fmt is None:
        raise SpecError(f"cannot write {str(path)!r}: tables are written as .csv (optionally compressed, e.g. "
                        ".csv.gz) or .parquet")
    kind, compression = fmt
    if kind == "parquet":
        return write_file(path, lambda fh: frame.to_parquet(fh, index=False), **kw)
    options = {"method": compression, "archive_name": Path(path).name[:-4]} if compression == "zip" else compression
    return write_file(path, lambda fh: frame.to_csv(fh, index=False, compression=options), **kw)


def save_figure(figure, path: str | Path, *, fmt: str = "png", dpi: int = 120, **kw) -> Path:
    """A matplotlib figure as ``fmt`` (PNG), atomically."""
    return write_file(path, lambda fh: figure.savefig(fh, format=fmt, dpi=dpi, bbox_inches="tight"), **kw)


class OutputPlan:
    """The inputs and outputs of one command, checked together before any work starts.

    >>> plan = OutputPlan(force=False)
    >>> plan.input("data.csv", "DATA")                        # doctest: +SKIP
    >>> plan.file("synth.csv", "--out", suffixes=TABLE_SUFFIXES)  # doctest: +SKIP
    >>> plan.check()                                          # doctest: +SKIP
    """

    def __init__(self, *, force: bool = False) -> None:
        self.force = bool(force)
        self.inputs: list[tuple[str, Path]] = []
        self.outputs: list[tuple[str, Path, str, tuple]] = []

    def input(self, path: str | Path | None, label: str) -> None:
        if path is not None:
            self.inputs.append((label, Path(path)))

    def file(self, path: str | Path | None, label: str, *, suffixes: Iterable[str] | None = None) -> None:
        """An output file named by option ``label``; ``suffixes`` the ones it may end with."""
        if path is not None:
            self.outputs.append((label, Path(path), "file", tuple(suffixes or ())))

    def folder(self, path: str | Path | None, label: str, *, names: Iterable[str] = (),
               patterns: Iterable[str] = ()) -> None:
        """An output folder: ``names`` the files written in it, ``patterns`` globs of more of them."""
        if path is not None:
            self.outputs.append((label, Path(path), "folder", (tuple(names), tuple(patterns))))

    def _files(self) -> list[tuple[str, Path]]:
        """Every output file, with its option (a folder's files as 'OPTION/name')."""
        out = []
        for label, path, kind, extra in self.outputs:
            if kind == "file":
                out.append((label, path))
            else:
                names, patterns = extra
                out += [(label, path / n) for n in names]
                if path.is_dir():
                    out += [(label, p) for pat in patterns for p in sorted(path.glob(pat))]
        return out

    def check(self) -> None:
        """Refuse the first bad output, naming its option (see the class notes)."""
        for label, path, kind, extra in self.outputs:
            self._check_place(label, path, kind, extra)
        files = self._files()
        for label, path in files:
            for in_label, src in self.inputs:
                if same_file(path, src):
                    raise OutputError(f"{label} {str(path)!r} is the input {in_label} {str(src)!r}: writing it would "
                                      f"destroy the input. Fix: give {label} another file name")
        for i, (label, path) in enumerate(files):
            for other, opath in files[:i]:
                if same_file(path, opath):
                    names = f"{other} and {label}" if other != label else label
                    raise OutputError(f"{names} name the same file {str(path)!r}: one would overwrite the other. "
                                      "Fix: give each output its own file name")
        if not self.force:
            for label, path in files:
                if os.path.lexists(path):
                    raise OutputExistsError(f"{label}: {str(path)!r} exists already; pass --force to replace it, "
                                            "or choose another name")

    def _check_place(self, label: str, path: Path, kind: str, extra: tuple) -> None:
        if kind == "file":
            if path.is_dir():
                raise OutputError(f"{label} {str(path)!r} is a folder; give a file name (e.g. "
                                  f"{str(path / ('out' + (extra[0] if extra else '.csv')))!r})")
            if extra and not str(path).lower().endswith(extra):
                raise SpecError(f"{label} {str(path)!r}: the file name must end with one of {', '.join(extra)}; "
                                f"got {path.suffix.lower() or 'no suffix'!r}")
            parent = path.parent if str(path.parent) else Path(".")
        else:
            if os.path.islink(path) and not path.exists():
                raise OutputError(f"{label} {str(path)!r} is a symbolic link to {os.readlink(path)!r}, which does "
                                  "not exist. Fix: create that folder, or remove the link")
            if path.exists() and not path.is_dir():
                raise OutputError(f"{label} {str(path)!r} is a file, not a folder: the report is written into a "
                                  "folder. Fix: give a folder name (it is created if missing)")
            parent = path
        _check_folder(parent, path, label)
