"""Zip archives (local path, ``file://``, http(s)), extracted so no entry lands outside.

Refused: absolute names, ``..`` components, backslashes, symlink entries, and archives whose
declared size or entry count is beyond sanity. A single top-level directory becomes the root
(``#subdir`` is looked up from the archive root first, then inside that directory).
"""

from __future__ import annotations

import shutil
import stat
import tempfile
import time
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from satchel.errors import FetchError
from satchel.projects.fetched import (
    Fetched,
    SourceInfo,
    is_zip_uri,
    resolve_subdir,
    split_credentials,
)

__all__ = ["extract_safely", "fetch_zip", "is_zip_uri"]

MAX_DOWNLOAD = 1 << 30  # 1 GiB archive
MAX_TOTAL = 4 << 30  # 4 GiB uncompressed
MAX_ENTRIES = 100_000
DOWNLOAD_SECONDS = 600.0  # the whole download: a server trickling bytes never times out a read


def fetch_zip(given: str, base: str, subdir: str) -> Fetched:
    tmp = Path(tempfile.mkdtemp(prefix="satchel-zip-"))
    try:
        archive = _obtain(given, base, tmp)
        target = tmp / "project"
        extract_safely(archive, target, given)
        root = _project_root(target, subdir, given)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    info = SourceInfo(uri=given, name=given, type="zip", subdir=subdir)
    return Fetched(root, info, lambda: shutil.rmtree(tmp, ignore_errors=True))


def _obtain(given: str, base: str, tmp: Path) -> Path:
    parts = urlsplit(base)
    if parts.scheme in ("http", "https"):
        return _download(given, base, tmp / "archive.zip")
    path = Path(unquote(parts.path)) if parts.scheme == "file" else Path(base).expanduser()
    if not path.is_file():
        raise FetchError(f"No such zip archive {str(path)!r} (from {given!r})")
    return path


def _download(given: str, url: str, dest: Path) -> Path:
    import urllib.error  # late: urllib.request costs ~20 ms, paid only for http(s) zips
    import urllib.request

    request = _request(url)
    try:
        # only http(s) reaches here (checked by the caller)
        with urllib.request.urlopen(request, timeout=60) as response, open(dest, "wb") as out:  # noqa: S310
            total = 0
            deadline = time.monotonic() + DOWNLOAD_SECONDS
            # read1: whatever has arrived, so the deadline is checked however slow the bytes
            while chunk := response.read1(1 << 20):
                if time.monotonic() > deadline:
                    raise FetchError(
                        f"Could not download {given!r}: not complete after "
                        f"{DOWNLOAD_SECONDS:g}s; check the server or the network"
                    )
                total += len(chunk)
                if total > MAX_DOWNLOAD:
                    raise FetchError(f"Zip archive {given!r} is larger than 1 GiB; refused")
                out.write(chunk)
    except urllib.error.HTTPError as err:
        raise FetchError(f"Could not download {given!r}: HTTP {err.code} {err.reason}") from None
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise FetchError(f"Could not download {given!r}: {reason}") from None
    return dest


def _request(url: str) -> Any:
    """A request for ``url`` without its userinfo; credentials go in a header that is not
    repeated to another host on a redirect."""
    import base64
    import urllib.request
    from urllib.parse import unquote

    clean, credentials = split_credentials(url)
    request = urllib.request.Request(clean)  # noqa: S310 - http(s) only (checked by the caller)
    if credentials is not None:
        user, _, password = credentials.partition(":")
        token = base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode()
        request.add_unredirected_header("Authorization", f"Basic {token}")
    return request


def extract_safely(archive: Path, target: Path, given: str) -> None:
    """Extract ``archive`` into ``target``; any unsafe entry aborts with FetchError."""
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = [i for i in zf.infolist() if not i.filename.startswith("__MACOSX/")]
            _check_sizes(infos, given)
            _check_collisions(infos, given)
            target.mkdir(parents=True)
            for info in infos:
                _extract_one(zf, info, target, given)
    except zipfile.BadZipFile:
        raise FetchError(f"{given!r} is not a valid zip archive") from None
    except OSError as err:  # e.g. a name too long for this file system: the archive's fault
        raise FetchError(f"Could not extract zip archive {given!r}: {err}") from None


def _check_collisions(infos: list[zipfile.ZipInfo], given: str) -> None:
    """A file entry that is also a directory of another entry (``a`` and ``a/b``) cannot be
    extracted both ways: refuse the archive instead of failing half way."""
    files = {PurePosixPath(i.filename) for i in infos if not i.is_dir()}
    for info in infos:
        for parent in PurePosixPath(info.filename).parents:
            if parent in files:
                raise FetchError(
                    f"Zip archive {given!r} has both a file {str(parent)!r} and the entry "
                    f"{info.filename!r} inside it; refused (rebuild the archive)"
                )


def _check_sizes(infos: list[zipfile.ZipInfo], given: str) -> None:
    if len(infos) > MAX_ENTRIES:
        raise FetchError(f"Zip archive {given!r} has more than {MAX_ENTRIES} entries; refused")
    if sum(i.file_size for i in infos) > MAX_TOTAL:
        raise FetchError(f"Zip archive {given!r} expands to more than 4 GiB; refused")


def _extract_one(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, given: str) -> None:
    name = info.filename
    parts = PurePosixPath(name).parts
    unsafe = (
        name.startswith("/")
        or "\\" in name
        or (len(name) > 1 and name[1] == ":")
        or ".." in parts
        or not parts
    )
    mode = info.external_attr >> 16
    if unsafe or stat.S_ISLNK(mode):
        what = "a symlink" if stat.S_ISLNK(mode) else "outside the archive root"
        raise FetchError(f"Unsafe entry {name!r} in zip archive {given!r} ({what}); refused")
    dest = target.joinpath(*parts)
    if info.is_dir():
        dest.mkdir(parents=True, exist_ok=True)
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zf.open(info) as src, open(dest, "wb") as out:
        shutil.copyfileobj(src, out)
    if mode & 0o111:
        dest.chmod(0o755)


def _project_root(target: Path, subdir: str, given: str) -> Path:
    """``#subdir`` names a path from the archive root first (``p.zip#proj`` where ``proj/`` is
    the single top-level folder), else from inside that folder (``p.zip#sub`` for
    ``proj/sub/``), the way the bare ``p.zip`` already enters it. Either way
    ``resolve_subdir`` keeps the result inside the extracted tree."""
    top = _single_top_dir(target)
    if not subdir:
        return top.resolve()
    if top == target or (target / subdir).is_dir():
        return resolve_subdir(target, subdir, given)
    return resolve_subdir(top, subdir, given)


def _single_top_dir(target: Path) -> Path:
    children = list(target.iterdir())
    if len(children) == 1 and children[0].is_dir() and not children[0].is_symlink():
        return children[0]
    return target
