"""Output folders that never lose a file: built beside the target, moved into place when complete.

The rules (``docs/errors.md``), shared by ``keras_wc.hls.convert``, ``keras-wc convert``,
``keras-wc project build`` and the demo:

* a run writes into a fresh hidden folder beside ``output_dir`` (same parent, so the final
  move is a rename on one file system) and renames it to ``output_dir`` only after every
  file was written; a failed run removes it and leaves ``output_dir`` as it was;
* every folder written holds the marker file :data:`MARKER`: the line :data:`MARKER_HEADER`
  and the sorted list of the files written (deterministic: equal projects, equal markers);
* an existing non-empty ``output_dir`` is replaced only with ``overwrite``, only when it
  holds the marker and nothing but the files the marker lists and the outputs that
  compiling or C-simulating the project adds (:data:`REBUILT`): a user's own file (the input
  model, notes, a vendor tool's run) is never deleted;
* the current folder, or a folder holding it, is never replaced.

Example:
    >>> with staged_output_dir("prj", overwrite=True) as stage:
    ...     (stage / "result.txt").write_text("42\\n")
    >>> sorted(p.name for p in Path("prj").iterdir())
    ['.keras_wc', 'result.txt']
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import secrets
import shutil
from pathlib import Path
from typing import Iterator, List, Optional, Set, Union

PathLike = Union[str, Path]
#: the marker file of every folder keras_wc writes
MARKER = ".keras_wc"
#: the marker's first line (the file names follow, one a line)
MARKER_HEADER = "written by keras_wc: overwrite may replace this folder while it holds only the files below"
#: outputs added to a written project by ``hls_model.compile()`` and C simulation (relative globs)
REBUILT = ("firmware/*.so", "tb_data/csim_results.log")
#: unknown files named in an error before "and N more"
_SHOWN = 5


def folder_files(folder: Path) -> List[str]:
    """Every file (and symbolic link) under ``folder``, as sorted relative POSIX paths.

    Args:
        folder: an existing folder.

    Returns:
        The paths; folders themselves are not listed, links are not followed.
    """
    found = []
    for root, dirs, files in os.walk(folder):
        base = Path(root)
        found += [(base / name).relative_to(folder).as_posix() for name in files]
        found += [(base / name).relative_to(folder).as_posix() for name in dirs if (base / name).is_symlink()]
    return sorted(found)


def write_marker(folder: Path) -> Path:
    """Write :data:`MARKER` into ``folder``: :data:`MARKER_HEADER` and the files present, sorted.

    Args:
        folder: the finished folder.

    Returns:
        The marker's path.
    """
    names = [name for name in folder_files(folder) if name != MARKER]
    path = folder / MARKER
    path.write_text("\n".join([MARKER_HEADER, *names]) + "\n")
    return path


def listed_files(folder: Path) -> Optional[Set[str]]:
    """The files ``folder``'s marker lists, or ``None`` when ``folder`` has no keras_wc marker."""
    path = folder / MARKER
    if not path.is_file() or path.is_symlink():
        return None
    lines = path.read_text(errors="replace").splitlines()
    if not lines or not lines[0].startswith("written by keras_wc"):
        return None
    return set(lines[1:])


def check_output_dir(output_dir: PathLike, overwrite: bool) -> Path:
    """Check that a run may write ``output_dir`` (nothing is touched).

    Args:
        output_dir: the folder a run will write.
        overwrite: allow replacing a non-empty folder that keras_wc wrote.

    Returns:
        The absolute path.

    Raises:
        FileExistsError: the path is a file or a link, is or holds the current folder, is not
            empty and ``overwrite`` is False, or (with ``overwrite``) has no keras_wc marker or
            holds files keras_wc did not write (named).

    Example:
        >>> check_output_dir("prj", overwrite=False)   # a new or empty folder
        PosixPath('/home/me/prj')
    """
    path = Path(os.path.abspath(output_dir))
    if path.is_symlink():
        raise FileExistsError(f"output_dir {path} is a symbolic link; pass the folder it points to")
    if not path.exists():
        return path
    if not path.is_dir():
        raise FileExistsError(f"output_dir {path} is a file, not a folder")
    here = Path.cwd().resolve()
    if path.resolve() == here or path.resolve() in here.parents:
        raise FileExistsError(f"output_dir {path} is the current folder or holds it; write into a sub-folder "
                              f"such as {path / 'prj'}")
    if not any(path.iterdir()):
        return path
    if not overwrite:
        raise FileExistsError(f"output_dir {path} is not empty; pass overwrite=True (--overwrite) to replace a "
                              "folder keras_wc wrote")
    listed = listed_files(path)
    if listed is None:
        raise FileExistsError(f"output_dir {path} is not empty and has no {MARKER} marker, so keras_wc did not "
                              "write it; overwrite replaces only keras_wc's own folders: choose another folder")
    unknown = [name for name in folder_files(path) if name != MARKER and name not in listed
               and not any(fnmatch.fnmatchcase(name, pattern) for pattern in REBUILT)]
    if unknown:
        more = f" and {len(unknown) - _SHOWN} more" if len(unknown) > _SHOWN else ""
        raise FileExistsError(f"output_dir {path} holds files keras_wc did not write ({', '.join(unknown[:_SHOWN])}"
                              f"{more}); move them out or choose another folder")
    return path


def _new_folder(parent: Path, name: str) -> Path:
    """A new, empty, hidden folder ``.<name>.keras_wc-<random>`` in ``parent``."""
    while True:
        candidate = parent / f".{name}.keras_wc-{secrets.token_hex(4)}"
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue


def _make_parents(folder: Path) -> List[Path]:
    """Create ``folder`` and its missing ancestors; returns those created, deepest first."""
    missing = [path for path in [folder, *folder.parents] if not path.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    return missing


def _move_into_place(stage: Path, target: Path, overwrite: bool) -> None:
    """Rename ``stage`` to ``target``, replacing a previous ``target`` only if it may still be replaced."""
    check_output_dir(target, overwrite)  # again: the folder may have changed while the run took
    if not target.exists():
        stage.rename(target)
        return
    previous = _new_folder(target.parent, target.name)
    previous.rmdir()
    target.rename(previous)
    try:
        stage.rename(target)
    except BaseException:
        previous.rename(target)
        raise
    shutil.rmtree(previous)


@contextlib.contextmanager
def staged_output_dir(output_dir: PathLike, overwrite: bool) -> Iterator[Path]:
    """Write a folder completely, then move it into place (see the module docstring).

    ``output_dir`` is checked (:func:`check_output_dir`) before anything is created; the
    block writes into the yielded hidden folder beside it. When the block completes, the
    marker is written and the folder renamed to ``output_dir`` (checked again first). When
    it raises, the hidden folder (and any parent folder created for it) is removed and
    ``output_dir`` is untouched.

    Args:
        output_dir: the final folder.
        overwrite: replace a folder keras_wc wrote.

    Yields:
        The staging folder (empty).

    Raises:
        FileExistsError: from :func:`check_output_dir`.

    Example:
        >>> with staged_output_dir("prj", overwrite=False) as stage:
        ...     (stage / "a.txt").write_text("a")
    """
    target = check_output_dir(output_dir, overwrite)
    created = _make_parents(target.parent)
    stage = _new_folder(target.parent, target.name)
    try:
        yield stage
        write_marker(stage)
        _move_into_place(stage, target, overwrite)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        for folder in created:
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def replace_file(path: PathLike, data: Union[str, bytes]) -> Path:
    """Write ``path`` whole: into a hidden file beside it, renamed over ``path`` when complete.

    A reader never sees a half-written file, and a failed write leaves the previous file.

    Args:
        path: the file.
        data: its new content (text is written as UTF-8).

    Returns:
        ``path`` as a ``Path``.

    Example:
        >>> replace_file("results/quick.json", json.dumps(document) + "\\n")
        PosixPath('results/quick.json')
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.keras_wc-{secrets.token_hex(4)}")
    try:
        temporary.write_bytes(data.encode() if isinstance(data, str) else data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path
