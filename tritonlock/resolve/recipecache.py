"""build.py's generated recipe, kept by the hash of what it depends on, so a warm `resolve`
does not run ``build.py --dryrun`` again.

The files build.py writes depend only on the server tree (its commit), the options, the
interpreter that runs it and tritonlock's stubs (its version): those are the key. They are
kept as JSON in ``CACHE/recipes/<sha256>.json``, written atomically; one that cannot be read
is a miss, never an error.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from pathlib import Path

from .. import __version__
from ..util.atomic import read_json, write_json

FOLDER = "recipes"


def kept_recipe(cache_dir: Path, commit: str, options: list[str]) -> dict[str, str] | None:
    """The files an earlier ``build.py --dryrun OPTIONS`` wrote at the server ``commit``."""
    return _load(_path(cache_dir, commit, options))


def keep_recipe(cache_dir: Path, commit: str, options: list[str], files: dict[str, str]) -> None:
    """Keep what ``build.py --dryrun OPTIONS`` wrote at ``commit``."""
    write_json(_path(cache_dir, commit, options), {"files": files})


def _path(cache_dir: Path, commit: str, options: list[str]) -> Path:
    return cache_dir / FOLDER / f"{_key(commit, options)}.json"


def _key(commit: str, options: list[str]) -> str:
    parts = [__version__, sys.version, platform.machine(), commit, options]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _load(path: Path) -> dict[str, str] | None:
    data = read_json(path)
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict) or not files:
        return None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        return None
    return files
