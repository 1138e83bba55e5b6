"""Built-in deploy drivers, run by the runner as ordinary commands.

`local-symlink` deploys the way Capistrano does:

    PATH/releases/<version>-<short sha>/   one folder per release, never changed once made
    PATH/current -> releases/<name>        the live release, repointed atomically

    python -m hotfix_tui.deploy.drivers local-symlink --path P --version V --sha S [--source DIR]

The source tree (by default the current directory, which the services layer
makes a detached worktree at exactly the sha) is copied without `.git` into a
temporary folder that is renamed into place, so a release folder is complete
or absent. A release that already exists (a rollback to an earlier release) is
reused as it is. `current` is repointed by creating a new symlink under a
temporary name and renaming it over `current`: readers see the old release or
the new one, never nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import sys
from pathlib import Path

from ..clock import iso, utcnow

SHORT_SHA = 7
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
_SHA = re.compile(r"[0-9a-fA-F]{7,64}")


class DriverError(Exception):
    """A failure explained in one line."""


def _say(text: str) -> None:
    print(f"{iso(utcnow())} {text}", flush=True)


def release_name(version: str, sha: str) -> str:
    if not _VERSION.fullmatch(version) or ".." in version:
        raise DriverError(f"invalid version {version!r}: use letters, digits and . _ + -")
    if not _SHA.fullmatch(sha):
        raise DriverError(f"invalid sha {sha!r}: expected 7 to 64 hex digits")
    return f"{version}-{sha[:SHORT_SHA].lower()}"


def current_release(path: str | os.PathLike) -> str | None:
    """The name of the release folder `PATH/current` points to, or None."""
    link = Path(path) / "current"
    try:
        target = os.readlink(link)
    except OSError:
        return None
    return Path(target).name or None


def _ignore_git(directory: str, names: list[str]) -> set[str]:
    # `.git` is a folder in a clone and a file in a worktree; neither is deployed.
    return {".git"} & set(names)


def _count_files(source: Path) -> int:
    count = 0
    for _root, dirs, files in os.walk(source):
        if ".git" in dirs:
            dirs.remove(".git")
        count += sum(1 for f in files if f != ".git")
    return count


def deploy_local_symlink(path: str | os.PathLike, version: str, sha: str,
                         source: str | os.PathLike | None = None) -> str:
    """Deploy `source` as release <version>-<short sha> under `path`; returns the release name."""
    name = release_name(version, sha)
    base = Path(path)
    src = Path(source) if source is not None else Path.cwd()
    _say(f"preparing release {name} in {base}")
    if not src.is_dir():
        raise DriverError(f"source {src} is not a directory")
    if base.exists() and not base.is_dir():
        raise DriverError(f"deploy path {base} is not a directory")
    releases = base / "releases"
    for folder in (base, releases):
        try:
            folder.mkdir(exist_ok=True)  # the deploy path's parent must exist
        except OSError as exc:
            raise DriverError(f"cannot create {folder}: {exc.strerror or exc}") from exc
    current = base / "current"
    if current.exists() and not current.is_symlink():
        raise DriverError(f"{current} exists and is not a symlink; refusing to replace it")
    before = current_release(base)
    _copy_release(src, releases, name)
    _say(f"linking current -> releases/{name}" + (f" (was {before})" if before else ""))
    _repoint(base, current, name)
    _say(f"done: {name} is live" + (f" (previous: {before})" if before else ""))
    return name


def _copy_release(src: Path, releases: Path, name: str) -> None:
    """releases/<name> as a copy of `src` (without .git), made whole or not at all."""
    release = releases / name
    if release.is_dir():
        _say(f"release {name} already present: reusing it (not copied)")
        return
    total = _count_files(src)
    _say(f"copying {total} files from {src}")
    tmp = releases / f".tmp-{name}-{os.getpid()}"
    try:
        shutil.copytree(src, tmp, symlinks=True, ignore=_ignore_git)
        os.rename(tmp, release)
    except (OSError, shutil.Error) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise DriverError(f"cannot copy {src} to {release}: {_reason(exc)}") from exc
    _say(f"copied {total} files to releases/{name}")


def _repoint(base: Path, current: Path, name: str) -> None:
    """Point `current` at releases/<name> in one atomic rename."""
    link_tmp = base / f".current.tmp-{os.getpid()}"
    try:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(link_tmp)
        os.symlink(f"releases/{name}", link_tmp)
        os.replace(link_tmp, current)
    except OSError as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(link_tmp)
        raise DriverError(f"cannot repoint {current}: {exc.strerror or exc}") from exc


def _reason(exc: BaseException) -> str:
    if isinstance(exc, shutil.Error) and exc.args and isinstance(exc.args[0], list):
        first = exc.args[0][0]
        return f"{first[0]}: {first[2]}" if len(first) >= 3 else str(first)
    if isinstance(exc, OSError):
        return f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc.strerror or exc)
    return str(exc)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, like every other hotfix error
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m hotfix_tui.deploy.drivers")
    sub = parser.add_subparsers(dest="driver", required=True)
    sym = sub.add_parser("local-symlink", help="releases/ folders and an atomic current symlink")
    sym.add_argument("--path", required=True, help="deploy root (holds releases/ and current)")
    sym.add_argument("--version", required=True)
    sym.add_argument("--sha", required=True)
    sym.add_argument("--source", help="tree to deploy (default: the current directory)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        deploy_local_symlink(args.path, args.version, args.sha, args.source)
    except DriverError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    except OSError as exc:
        print(f"error: {_reason(exc)}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
