"""Stand-ins on 127.0.0.1 for what cannot be reached from here (issue 12's oracle runs).

``tools/upstream_matrix.py --standins`` resolves a cell, reads its ``[[unresolved]]``
entries that only say a host cannot be reached (kinds image, url, apt), and asks
:class:`Standins` for stand-ins of exactly those; the cell is then resolved again with
mirror options pointing at them. Mirrors change where bytes come from, never what the lock
records, so the lock still names nvcr.io, the download URLs and the apt hosts; only the
digests of stand-in images, the hashes of stand-in downloads and the versions of stand-in
apt packages come from the stand-ins:

- **images** (a registry the probe cannot reach, e.g. nvcr.io): every image of the recipe
  on that registry is pushed, under its own repository and tag, to a local
  ``docker-registry`` as an OCI index with a tiny linux/amd64 and linux/arm64/v8 image;
  ``--registry-mirror nvcr.io=127.0.0.1:P/nvcr.io --insecure-registry 127.0.0.1:P``;
- **downloads**: each unreachable URL is served with stand-in bytes (a line naming it) at
  the same path, ``--url-mirror https://HOST/=http://127.0.0.1:P/CELL/HOST/ --allow-http``;
  downloads whose hash upstream declares are never fetched when locking and need none;
- **apt**: the dated Ubuntu archive and each repository the recipe adds, where their host
  cannot be reached, are served as real (unsigned) archives: Release files with the
  SHA256 of their Packages indexes. The Ubuntu stand-in (else the last repository a step
  adds) offers every package the recipe asks for: at the version asked, or matching the
  ``prefix*`` asked, or ``0~standin`` when no version is asked (through the same
  ``--url-mirror``, which apt reads through too).

A host counts as unreachable when a TCP connection to its port 443 fails (a name that does
not resolve fails at once). Each cell gets its own folder on the file server, so cells
can run two at a time.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from standin_servers import FileServer, LocalRegistry

from tritonlock import lockfile
from tritonlock.errors import ResolveError
from tritonlock.resolve.aptplan import apt_base, apt_requests
from tritonlock.resolve.pipeline import wanted_images
from tritonlock.resolve.trees import checkout
from tritonlock.sources import debian
from tritonlock.sources.apt import AptRequest
from tritonlock.sources.imageref import parse_image_ref
from tritonlock.upstream import capture_recipe
from tritonlock.upstream.targets import TARGETS

Reachable = Callable[[str], bool]  # host name → can a connection to it be opened
STANDIN_VERSION = "0~standin"
KINDS = frozenset({"image", "url", "apt"})
DEFAULT_APT_ARCHIVE = "https://snapshot.ubuntu.com"


# --- what a cell needs (pure) -------------------------------------------------------------


@dataclass(frozen=True)
class CellRecipe:
    """What a cell's recipe asks for, as far as stand-ins are concerned."""

    images: tuple[str, ...]  # every image ref the recipe uses
    apt: tuple[AptRequest, ...]  # its apt installs, each with the repositories it adds
    arch: str  # Debian architecture of the target
    apt_base: str  # the dated Ubuntu archive, e.g. https://snapshot.ubuntu.com/ubuntu/2025…Z
    suites: tuple[str, ...]  # its suites (noble, noble-updates, noble-security)


@dataclass(frozen=True, order=True)
class Deb:
    name: str
    version: str


@dataclass(frozen=True)
class AptDist:
    """One stand-in suite: ``root`` is the URL of the folder its Release file is in;
    ``indexes`` the Packages indexes below it that the resolver reads (the first lists
    ``debs``, the others are empty)."""

    root: str
    indexes: tuple[str, ...]
    debs: frozenset[Deb] = frozenset()


@dataclass(frozen=True)
class Needs:
    """The stand-ins of one cell: image refs, download URLs, apt suites."""

    images: frozenset[str] = frozenset()
    urls: frozenset[str] = frozenset()
    dists: frozenset[AptDist] = frozenset()

    def __or__(self, other: Needs) -> Needs:
        return Needs(self.images | other.images, self.urls | other.urls, self.dists | other.dists)

    def __bool__(self) -> bool:
        return bool(self.images or self.urls or self.dists)

    def labels(self) -> tuple[str, ...]:
        """What is stood in: ``image REF``, ``url URL`` and ``apt REPO`` lines, sorted; the
        suites of one repository are one line (``apt https://h/ubuntu/ (noble, noble-…)``)."""
        suites: dict[str, list[str]] = {}
        for root in sorted(d.root for d in self.dists):
            repo, dists, suite = root.rpartition("/dists/")
            key = repo + "/" if dists else root
            suites.setdefault(key, []).extend([suite.strip("/")] if dists else [])
        return (
            *(f"image {r}" for r in sorted(self.images)),
            *(f"url {u}" for u in sorted(self.urls)),
            *(f"apt {r}" + (f" ({', '.join(sorted(s))})" if s else "") for r, s in suites.items()),
        )


def host(url: str) -> str:
    return urlsplit(url).hostname or ""


def needs_for(
    entries: Iterable[tuple[str, str]], recipe: CellRecipe, reachable: Reachable
) -> Needs:
    """The stand-ins for a cell's unreachable ``(kind, what)`` entries: the recipe's images
    on a registry that cannot be reached (by tag: a digest cannot be stood in), each
    unreachable URL, and the apt suites whose host cannot be reached, offering what the
    recipe asks for."""
    entries = list(entries)
    kinds = {kind for kind, _ in entries}
    images = frozenset(
        ref
        for ref in recipe.images
        if "image" in kinds and "@" not in ref and not reachable(parse_image_ref(ref).registry)
    )
    urls = frozenset(
        what
        for kind, what in entries
        if kind == "url" and what.startswith(("https://", "http://")) and not reachable(host(what))
    )
    dists = apt_dists(recipe, reachable) if "apt" in kinds else frozenset()
    return Needs(images, urls, dists)


def apt_dists(recipe: CellRecipe, reachable: Reachable) -> frozenset[AptDist]:
    """Stand-in suites for every unreachable apt source of the recipe, with the packages
    each step asks for in the Ubuntu stand-in (else in the step's last stand-in repo)."""
    arch = recipe.arch
    codename = recipe.suites[0].split("-", 1)[0] if recipe.suites else ""
    indexes: dict[str, tuple[str, ...]] = {}
    debs: dict[str, set[Deb]] = {}
    base = ""
    if not reachable(host(recipe.apt_base)):
        for suite in recipe.suites:
            root = f"{recipe.apt_base.rstrip('/')}/dists/{suite}/"
            indexes[root], debs[root] = (f"main/binary-{arch}/Packages",), set()
        base = f"{recipe.apt_base.rstrip('/')}/dists/{recipe.suites[0]}/" if recipe.suites else ""
    for request in recipe.apt:
        own = ""
        for line in request.repositories:
            source = debian.parse_deb_line(line, arch=arch, codename=codename)
            if source is None or reachable(host(source.url)):
                continue
            own, paths = _dist_of(source, arch)
            indexes.setdefault(own, paths)
            debs.setdefault(own, set())
        into = base or own
        if into:
            debs[into] |= {Deb(name, standin_version(want)) for name, want in request.packages}
    return frozenset(AptDist(root, indexes[root], frozenset(debs[root])) for root in indexes)


def _dist_of(source: debian.DebSource, arch: str) -> tuple[str, tuple[str, ...]]:
    """Where a ``deb`` line's Release file is, and its indexes (Debian's repository format)."""
    if source.flat:
        return (source.url if source.suite == "/" else source.url + source.suite), ("Packages",)
    paths = tuple(f"{c}/binary-{arch}/Packages" for c in source.components)
    return f"{source.url}dists/{source.suite}/", paths


def standin_version(want: str | None) -> str:
    """A version apt's ``name=want`` accepts: ``want`` itself when exact, ``want``'s
    ``prefix*`` with a stand-in revision, ``0~standin`` when nothing is asked."""
    if want is None:
        return STANDIN_VERSION
    if not any(c in want for c in "*?["):
        return want
    fixed = re.sub(r"\[[^]]*\]", "0", want).replace("?", "0")
    for fill in ("-0~standin", "0~standin", "0"):
        version = re.sub(r"(?<=-)\*", "0~standin", fixed).replace("*", fill)
        if _valid(version) and debian.version_matches(want, version):
            return version
    raise ValueError(f"no stand-in version matches apt's {want!r}")


def _valid(version: str) -> bool:
    try:
        debian.parse_version(version)
    except ValueError:
        return False
    return True


# --- the bytes of a cell's stand-ins (pure) -------------------------------------------------


def standin_bytes(url: str) -> bytes:
    """What a stand-in download serves: one line naming the URL it stands in for."""
    return f"tritonlock stand-in for {url}\n".encode()


def packages_index(debs: Iterable[Deb], arch: str) -> bytes:
    stanzas = [
        f"Package: {d.name}\nVersion: {d.version}\nArchitecture: {arch}\n"
        f"Maintainer: tritonlock stand-in <standin@invalid>\n"
        f"Filename: pool/{d.name}_{d.version.replace(':', '%3a')}_{arch}.deb\n"
        f"Description: stand-in for {d.name}\n"
        for d in sorted(debs)
    ]
    return "\n".join(stanzas).encode()


def release_file(files: Mapping[str, bytes], arch: str) -> bytes:
    """An unsigned Release file listing ``files`` (path below the suite → bytes)."""
    lines = [
        "Origin: tritonlock stand-in",
        "Label: tritonlock stand-in",
        f"Architectures: {arch}",
        "SHA256:",
        *(f" {hashlib.sha256(b).hexdigest()} {len(b)} {p}" for p, b in sorted(files.items())),
    ]
    return ("\n".join(lines) + "\n").encode()


def standin_files(needs: Needs, arch: str) -> dict[str, bytes]:
    """Every file the cell's file server must hold, by the URL it stands in for."""
    files = {url: standin_bytes(url) for url in needs.urls}
    for dist in needs.dists:
        first, *rest = dist.indexes
        listed = {first: packages_index(dist.debs, arch)}
        listed.update({path: packages_index((), arch) for path in rest})
        files.update({dist.root + p: b for p, b in listed.items()})
        files[dist.root + "Release"] = release_file(listed, arch)
    return files


def local_path(url: str) -> str:
    """Where the file server keeps ``url``: ``HOST/PATH``."""
    parts = urlsplit(url)
    return f"{parts.hostname}{parts.path}"


def mirror_options(
    needs: Needs, files: Iterable[str], *, http: str, cell: str, registry: str
) -> list[str]:
    """The resolve options routing the stand-ins' hosts to the local servers."""
    options: list[str] = []
    prefixes = sorted({f"{urlsplit(u).scheme}://{urlsplit(u).netloc}/" for u in files})
    for prefix in prefixes:
        options += ["--url-mirror", f"{prefix}={http}/{cell}/{urlsplit(prefix).hostname}/"]
    if prefixes:
        options.append("--allow-http")
    registries = sorted({parse_image_ref(r).registry for r in needs.images})
    for name in registries:
        options += ["--registry-mirror", f"{name}={registry}/{name}"]
    if registries:
        options += ["--insecure-registry", registry]
    return options


def option_values(passed: Sequence[str], flag: str) -> list[str]:
    """Every value of ``flag`` in an option list (``--flag VALUE`` or ``--flag=VALUE``)."""
    values = []
    for i, word in enumerate(passed):
        if word == flag and i + 1 < len(passed):
            values.append(passed[i + 1])
        elif word.startswith(flag + "="):
            values.append(word[len(flag) + 1 :])
    return values


# --- the recipe and the servers (I/O) ---------------------------------------------------------


def can_reach(name: str, timeout: float = 5.0) -> bool:
    """Whether a TCP connection to ``name``:443 opens."""
    try:
        with socket.create_connection((name, 443), timeout=timeout):
            return True
    except OSError:
        return False


def _checkout(url: str, commit: str, tree: Path, mirrors: Sequence[tuple[str, str]]) -> None:
    """The server tree, asked up to three times (a busy local git daemon drops fetches)."""
    for attempt in range(3):
        shutil.rmtree(tree, ignore_errors=True)
        try:
            checkout(url, commit, tree, mirrors)
            return
        except ResolveError:
            if attempt == 2:
                raise
            time.sleep(2 * (attempt + 1))


def read_recipe(lock_path: Path, passed: Sequence[str]) -> CellRecipe | None:
    """The recipe of a (partial) lock, from its server pin (None without one)."""
    lock = lockfile.load(lock_path)
    server = next((p for p in lock.git if p.name == "server"), None)
    if server is None:
        return None
    mirrors = [tuple(m.split("=", 1)) for m in option_values(passed, "--git-mirror")]
    with tempfile.TemporaryDirectory(prefix="standins-") as tmp:
        tree = Path(tmp) / "server"
        _checkout(server.url, server.commit, tree, [(a, b) for a, b in mirrors])
        _, floating, _ = capture_recipe(
            tree,
            lock.inputs,
            commit=server.commit,
            images_of=lock.release.get("upstream-container-version"),
        )
    arch = TARGETS[lock.inputs.target].deb_arch
    snapshot = (option_values(passed, "--apt-snapshot") or [""])[-1]
    if not snapshot and server.committed is not None:
        snapshot = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(server.committed))
    root = (option_values(passed, "--apt-archive") or [DEFAULT_APT_ARCHIVE])[-1].rstrip("/")
    base = apt_base(root, arch=arch, release=lock.inputs.release, snapshot=snapshot)
    images = wanted_images(floating, lock.inputs.images)
    return CellRecipe(
        images=tuple(sorted(set(images.values()))),
        apt=tuple(apt_requests(floating)),
        arch=arch,
        apt_base=base.url,
        suites=base.suites,
    )


@dataclass
class Standins:
    """The stand-in servers of one matrix run (started when first needed), under ``root``."""

    root: Path
    reachable: Reachable = can_reach
    _needs: dict[str, Needs] = field(default_factory=dict)
    _pushed: set[str] = field(default_factory=set)
    _files: FileServer | None = None
    _registry: LocalRegistry | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _reach: dict[str, bool] = field(default_factory=dict)

    def __enter__(self) -> Standins:
        shutil.rmtree(self.root, ignore_errors=True)
        (self.root / "www").mkdir(parents=True)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._files:
            self._files.close()
        if self._registry:
            self._registry.close()

    def labels(self, cell: str) -> tuple[str, ...]:
        return self._needs.get(cell, Needs()).labels()

    def prepare(
        self, cell: str, lock: Path, entries: Sequence[tuple[str, str]], passed: Sequence[str]
    ) -> list[str] | None:
        """Resolve options for stand-ins of ``entries`` (unreachable ``(kind, what)``) on
        top of the cell's earlier ones; None when nothing new can be stood in."""
        wanted = [(k, w) for k, w in entries if k in KINDS]
        recipe = read_recipe(lock, passed) if wanted and lock.is_file() else None
        if recipe is None:
            return None
        before = self._needs.get(cell, Needs())
        needs = before | needs_for(wanted, recipe, self._reachable)
        if needs == before:
            return None
        self._needs[cell] = needs
        files = standin_files(needs, recipe.arch)
        self._write(cell, files)
        for ref in sorted(needs.images):
            self._push(ref)
        server = self._file_server()
        registry = self._registry.address if self._registry else ""
        return mirror_options(needs, files, http=server.url, cell=cell, registry=registry)

    def _reachable(self, name: str) -> bool:
        with self._lock:
            if name not in self._reach:
                self._reach[name] = self.reachable(name)
            return self._reach[name]

    def _write(self, cell: str, files: Mapping[str, bytes]) -> None:
        for url, body in files.items():
            path = self.root / "www" / cell / local_path(url)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)

    def _file_server(self) -> FileServer:
        with self._lock:
            if self._files is None:
                self._files = FileServer(self.root / "www")
            return self._files

    def _push(self, ref: str) -> None:
        parsed = parse_image_ref(ref)
        with self._lock:
            if ref in self._pushed:
                return
            if self._registry is None:
                self._registry = LocalRegistry(self.root / "registry")
            self._registry.push(
                f"{parsed.registry}/{parsed.repository}", parsed.tag or "latest", ref
            )
            self._pushed.add(ref)
