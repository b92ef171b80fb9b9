"""`tritonlock cache info|prune`: what the shared cache holds, and emptying it."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from ..errors import EXIT_OK, UsageError
from ._help import add_command
from ._options import add_cache_dir_option, cache_root

if TYPE_CHECKING:
    from ..util.store import Store
    from ._help import Subparsers

INFO_HELP = "where the shared cache is, and its entries and bytes by kind"
PRUNE_HELP = "remove the cache's entries not used for DAYS days, or everything"
EXAMPLES = (
    "tritonlock cache info                        # location, entries and size by kind",
    "tritonlock cache info --json",
    "tritonlock cache prune --older-than 30       # entries not used for 30 days",
    "tritonlock cache prune --all                 # the store and resolve's caches",
    "TRITONLOCK_CACHE_DIR=/srv/cache tritonlock cache info",
)
_DAY = 86400.0


def register(sub: Subparsers, help: str) -> None:
    p = add_command(
        sub,
        "cache",
        help,
        help + ". `resolve`, `vendor` and `verify --deep` share one cache folder: "
        "files/url, files/wheel, files/image, files/bundle and files/deb hold downloads, "
        "wheels, image blobs, git bundles and apt packages by "
        "sha256 (hashed again each time they are used); git, wheels, urls, apt and recipes "
        "hold resolve's own caches (clones, index pages, download validators, apt indexes, "
        "build.py --dryrun's files by server commit and options).",
        EXAMPLES,
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=type(p))
    info = add_command(actions, "info", INFO_HELP, INFO_HELP + ".", EXAMPLES[:2])
    _common(info)
    info.set_defaults(func=run_info)
    prune = add_command(
        actions,
        "prune",
        PRUNE_HELP,
        PRUNE_HELP + ". --older-than DAYS removes the entries of the store (files/) not "
        "used for DAYS days (using one refreshes its time); --all removes the store and "
        "resolve's caches (git, wheels, urls, apt, recipes), nothing else in the folder. A "
        "half-written entry of a process that died is removed after a day.",
        EXAMPLES[2:4],
    )
    prune.add_argument("--older-than", type=float, metavar="DAYS", help="age in days (>= 0)")
    prune.add_argument("--all", action="store_true", help="remove everything tritonlock cached")
    _common(prune)
    prune.set_defaults(func=run_prune)
    p.set_defaults(func=_no_action)


def _common(p: argparse.ArgumentParser) -> None:
    add_cache_dir_option(p.add_argument_group("cache"))
    p.add_argument("--json", action="store_true", help="print JSON on stdout")


def _no_action(args: argparse.Namespace) -> int:
    del args
    raise UsageError("name an action: tritonlock cache info|prune (see `tritonlock cache --help`)")


def _store(args: argparse.Namespace) -> Store:
    from ..util.store import Store

    return Store(cache_root(args))


def run_info(args: argparse.Namespace) -> int:
    store = _store(args)
    kinds = store.info()
    if args.json:
        out = {
            "location": str(store.root),
            "entries": sum(k.entries for k in kinds),
            "size": sum(k.size for k in kinds),
            "kinds": {k.kind: {"entries": k.entries, "size": k.size} for k in kinds},
        }
        print(json.dumps(out, indent=2))
        return EXIT_OK
    total = sum(k.size for k in kinds)
    print(f"{store.root}: {sum(k.entries for k in kinds)} files, {human(total)}")
    for k in kinds:
        print(f"  {_NAMES.get(k.kind, k.kind):<28} {k.entries:>7} files  {human(k.size):>9}")
    return EXIT_OK


_NAMES = {
    "url": "downloads (files/url)",
    "wheel": "wheels (files/wheel)",
    "image": "image blobs (files/image)",
    "git": "resolve: git clones",
    "wheels": "resolve: index pages, steps",
    "urls": "resolve: download validators",
    "apt": "resolve: apt indexes",
}


def run_prune(args: argparse.Namespace) -> int:
    if args.all == (args.older_than is not None):
        raise UsageError("give --older-than DAYS or --all (see `tritonlock cache prune --help`)")
    if args.older_than is not None and not args.older_than >= 0:
        raise UsageError(f"--older-than {args.older_than}: must be a number of days >= 0")
    store = _store(args)
    if args.all and store.root.exists() and not store.is_cache():
        raise UsageError(
            f"cache folder {store.root}: not tagged as tritonlock's cache (no CACHEDIR.TAG); "
            "remove what you mean to by hand"
        )
    days = args.older_than
    pruned = store.prune(older_than=None if days is None else days * _DAY, everything=args.all)
    if args.json:
        out = {"location": str(store.root), "removed": pruned.entries, "freed": pruned.size}
        print(json.dumps(out, indent=2))
    else:
        print(f"{store.root}: removed {pruned.entries} files, freed {human(pruned.size)}")
    return EXIT_OK


def human(n: int) -> str:
    """``1.2 GB``: bytes in powers of 1000, as `vendor` prints them."""
    value = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"
