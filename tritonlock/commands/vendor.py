"""`tritonlock vendor [LOCK] -o DIR`: bring every pinned input home; `--check DIR` re-hashes it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import EXIT_NEGATIVE, EXIT_OK, NegativeResult, UsageError
from ._help import add_command
from ._lockarg import add_lock_argument, lock_path
from ._options import (
    add_apt_archive_option,
    add_cache_dir_option,
    add_mirror_options,
    cache_root,
)

if TYPE_CHECKING:
    from ..model import Lock
    from ..vendor.aptrepo import AptJob
    from ..vendor.live import VendorOptions
    from ..vendor.run import Result
    from ._help import Subparsers

EXAMPLES = (
    "tritonlock vendor triton.lock -o bundle/       # resumable: run it again after Ctrl-C",
    "tritonlock vendor --check bundle/              # offline: every byte against the manifest",
    "tritonlock vendor --check bundle/ triton.lock  # ... and vendored from this lock",
    "tritonlock vendor -o bundle/ --no-images --git-mirror https://github.com/=https://gh.example/",
    "tritonlock vendor triton.lock -o bundle/ --apt-archive https://snapshots.example.org",
    "tritonlock vendor triton.lock -o bundle/ --no-apt  # no buildah here; build --vendor refuses",
    "tritonlock vendor triton.lock -o bundle2/      # wheels, downloads, blobs from the cache",
    "tritonlock build triton.lock --vendor bundle/ --run --builder buildah  # no network at all",
)


def register(sub: Subparsers, help: str) -> None:
    p = add_command(
        sub,
        "vendor",
        help,
        help + ". Each file is checked against its pin as it lands (sha256 of wheels and "
        "downloads, image blob digests); each repository is one `git bundle` of its pinned "
        "commits; images are an OCI image layout for the lock's platform. An interrupted "
        "run is resumed by running it again: what is in place is re-hashed, not fetched. "
        "Wheels, downloads and image blobs whose pinned hash the shared cache holds are "
        "taken from it (hashed again), and what is fetched is added to it. "
        "Apt packages: for each apt step of the recipe, apt itself downloads the pinned "
        "packages and their dependencies inside the step's pinned image (buildah), against "
        "the lock's dated snapshot; they become a flat repository in DIR/apt. An arm64 "
        "lock's images run on an x86_64 machine under qemu (qemu-user-static's binfmt "
        "handlers), which is checked before any work. "
        "DIR/manifest.json, written last, ties every file to the lock's content hash.",
        EXAMPLES,
    )
    add_lock_argument(p)
    p.add_argument("-o", "--output", metavar="DIR", help="the bundle folder to fill")
    p.add_argument(
        "--check",
        metavar="DIR",
        help="re-hash every file of the bundle in DIR offline (and, with LOCK, check it was "
        "vendored from that lock); exit 1 listing each missing or changed file",
    )
    p.add_argument(
        "--no-images",
        action="store_true",
        help="leave the images out (the build then pulls them by digest, e.g. from a "
        "registry mirror, before it goes offline)",
    )
    p.add_argument(
        "--no-apt",
        action="store_true",
        help="leave the apt packages out (no buildah needed; `build --vendor` then refuses "
        "the bundle)",
    )
    p.add_argument(
        "--allow-partial",
        action="store_true",
        help="vendor what a partial lock pins (a build still refuses the lock)",
    )
    g = p.add_argument_group("sources and mirrors (change where bytes come from, never the pins)")
    add_mirror_options(g)
    add_apt_archive_option(g)
    g.add_argument(
        "--index-url",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="URL of the lock's index NAME (overrides [[index]] url; credentials from netrc "
        "or in the URL; repeatable)",
    )
    g.add_argument("-j", "--jobs", type=int, default=4, help="parallel fetches (default: 4)")
    add_cache_dir_option(
        g,
        no_cache="neither take files from the shared cache nor add to it (by default a "
        "wheel, download or image blob whose pinned hash the cache holds is hard-linked or "
        "copied from it, hashed again first, and what is fetched is added)",
    )
    out = p.add_argument_group("output")
    out.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    out.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.check is not None:
        if args.output is not None:
            raise UsageError("give -o DIR (vendor) or --check DIR, not both")
        return _check(args)
    if args.output is None:
        raise UsageError("name the bundle folder: -o DIR (or --check DIR to check one)")
    from ..vendor.run import check_output

    options = _options(args)
    check_output(Path(args.output))
    cache = None if args.no_cache else cache_root(args)
    path = lock_path(args)
    lock, data = _lock(path, args.allow_partial)
    _apt_runs_here(lock, args)
    result = _vendor(lock, data, Path(args.output), options, cache, args)
    _report(result, Path(args.output), args.json)
    return EXIT_OK


def _options(args: argparse.Namespace) -> VendorOptions:
    from ..vendor.live import VendorOptions
    from ._sourceargs import live_source_fields

    return VendorOptions(**live_source_fields(args))


def _lock(path: str, allow_partial: bool) -> tuple[Lock, bytes]:
    """The lock, verified offline (a partial one only with --allow-partial), and its bytes."""
    from ..verify.offline import verify

    report = verify(path)
    if report.lock is None or not (report.ok or (allow_partial and report.partial)):
        first = report.problems[0] if report.problems else "invalid"
        more = f" (and {len(report.problems) - 1} more)" if len(report.problems) > 1 else ""
        hint = "; pass --allow-partial to vendor what it pins" if report.partial else ""
        raise NegativeResult(f"{report.path}: {first}{more}{hint}")
    return report.lock, Path(path).read_bytes()


def _vendor(
    lock: Lock,
    data: bytes,
    out: Path,
    options: VendorOptions,
    cache: Path | None,
    args: argparse.Namespace,
) -> Result:
    from ..sources.mirrors import rewrite
    from ..sources.urls import check_url
    from ..util.programs import require
    from ..util.store import Store
    from ..vendor.live import LiveSources, check_indexes
    from ..vendor.run import vendor
    from ._progress import Progress

    if lock.git:
        require("git", "vendor (it writes one git bundle per repository)")
    urls = {i.name: rewrite(i.url, options.url_mirrors) for i in lock.index if i.url}
    urls |= dict(options.index_urls)
    check_indexes({w.index for w in lock.wheel}, urls)
    for pin in lock.url:
        check_url(pin.url, allow_http=options.allow_http)
    with (
        Progress(quiet=args.quiet or args.json) as progress,
        LiveSources(options, urls) as src,
    ):
        result = vendor(
            lock,
            data,
            out,
            src,
            images=not args.no_images,
            apt=_apt_jobs(lock, options, args),
            jobs=options.jobs,
            progress=progress,
            store=None if cache is None else Store(cache),
        )
        for note in result.manifest.left_out:
            progress.note(f"note: {note}")
    return result


def _apt_runs_here(lock: Lock, args: argparse.Namespace) -> None:
    """apt runs inside the lock's images: their platform must run on this machine, natively
    or emulated (checked before any work, so nothing is half-written)."""
    if args.no_apt or lock.apt is None or not lock.apt.packages:
        return
    from ..upstream.targets import TARGETS
    from ..util.binfmt import check_runs

    target = TARGETS[lock.inputs.target]
    arch = target.oci_platform.split("/")[1]
    check_runs(
        target.oci_platform,
        needed_for=f"vendor: apt runs in the images of the lock's target {target.name}",
        fixes=f"or pass --no-apt, or run vendor on an {arch} machine",
    )


def _apt_jobs(
    lock: Lock, options: VendorOptions, args: argparse.Namespace
) -> tuple[AptJob, ...] | None:
    """The apt steps to vendor (the recipe is generated again to find each step's image
    and repositories); None with --no-apt."""
    if args.no_apt:
        return None
    if lock.apt is None or not lock.apt.packages:
        return ()
    from ..util.programs import require
    from ..vendor import aptrepo, aptrun

    require("buildah", "vendor of apt packages (or pass --no-apt)")
    installs = aptrun.recipe_installs(lock, options.git_mirrors, timeout=options.timeout)
    return aptrepo.jobs(lock, installs, archive=args.apt_archive, mirrors=options.url_mirrors)


def _report(result: Result, out: Path, as_json: bool) -> None:
    from ..vendor.run import human

    m = result.manifest
    kinds = ("git", "wheel", "url", "image", "apt")
    sizes = {k: m.size(k) for k in kinds}
    if as_json:
        summary = {
            "bundle": str(out),
            "content-hash": m.content_hash,
            "files": len(m.files),
            "size": m.size(),
            "sizes": sizes,
            "fetched": result.fetched,
            "reused": result.reused,
            "from-cache": result.cached,
            "left-out": list(m.left_out),
        }
        print(json.dumps(summary, indent=2))
        return
    names = {"git": "git", "wheel": "wheels", "url": "downloads", "image": "images", "apt": "apt"}
    parts = ", ".join(f"{names[k]} {human(v)}" for k, v in sizes.items() if v)
    print(
        f"vendored {m.content_hash} into {out}/: {len(m.files)} files, {human(m.size())} "
        f"({parts}); fetched {human(result.fetched)}, {human(result.reused)} already here"
        + (f" ({human(result.cached)} from the cache)" if result.cached else "")
    )


def _check(args: argparse.Namespace) -> int:
    from ..vendor.check import check_folder
    from ..vendor.run import human
    from ._progress import Progress

    folder = Path(args.check)
    if not folder.is_dir():
        raise UsageError(f"--check {folder}: no such folder")
    content_hash = None
    given = args.lock or args.lock_option
    if given is not None:
        lock, _ = _lock(lock_path(args), allow_partial=True)
        content_hash = lock.content_hash
    with Progress(quiet=args.quiet or args.json) as progress:
        checked = check_folder(folder, content_hash=content_hash, progress=progress)
    m = checked.manifest
    if args.json:
        out = {
            "bundle": str(folder),
            "ok": checked.ok,
            "content-hash": m.content_hash if m else None,
            "problems": list(checked.problems),
        }
        print(json.dumps(out, indent=2))
    elif checked.ok and m is not None:
        print(f"OK {folder}: {m.content_hash} ({len(m.files)} files, {human(m.size())})")
    else:
        for problem in checked.problems:
            print(problem)
        n = len(checked.problems)
        print(f"FAILED {folder}: {n} problem{'s' if n != 1 else ''}")
    return EXIT_OK if checked.ok else EXIT_NEGATIVE
