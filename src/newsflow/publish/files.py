"""Where articles go on disk, and the one way files are written: atomically."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

from newsflow.errors import ConfigError, PublishError
from newsflow.models import Article

FIELDS = ("date", "slug", "id")


def base_name(pattern: str, a: Article) -> str:
    """The file name (no extension) from publish.filename, e.g. "{date}-{slug}"."""
    try:
        name = pattern.format(date=a.published.strftime("%Y-%m-%d"), slug=a.slug, id=a.draft_id)
    except (KeyError, IndexError, ValueError) as e:
        raise ConfigError(f"{pattern!r} is not a valid pattern ({e})", key="publish.filename",
                          allowed="text with {date}, {slug} and {id}") from None
    parts = Path(name).parts
    if not name or Path(name).is_absolute() or any(p in ("..", ".") for p in parts):
        raise ConfigError(f"{pattern!r} gives {name!r}, which leaves the output directory",
                          key="publish.filename")
    return name


def check_pattern(pattern: str) -> None:
    """Raise ConfigError now rather than once per article."""
    probe = Article(draft_id=1, version=1, slug="probe", title="", summary="", body_markdown="",
                    published=dt.datetime(2000, 1, 1), updated=dt.datetime(2000, 1, 1), url="",
                    feed_id="")
    base_name(pattern, probe)


def write_atomic(path: Path, data: bytes) -> bool:
    """Write ``data`` unless the file already holds exactly it; True if written.

    The temporary file sits in the same directory so the rename is atomic, and a reader
    (a web server, a site generator) never sees half a file.
    """
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    except OSError as e:
        raise PublishError(f"cannot read {path}: {e.strerror}") from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as e:
        raise PublishError(f"cannot write {path}: {e.strerror}") from None
    return True


def remove_stale(output_dir: Path, old: list[str], new: list[str]) -> None:
    """Delete files an article no longer uses (after publish.filename changed)."""
    for rel in set(old) - set(new):
        p = (output_dir / rel).resolve()
        if output_dir.resolve() in p.parents:
            p.unlink(missing_ok=True)
