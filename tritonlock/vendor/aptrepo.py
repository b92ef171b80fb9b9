"""The apt part of a bundle (pure): which closures apt computes, and the flat repository
made of what it downloaded.

apt itself computes each closure, never tritonlock: for every apt step of the recipe, in
the pinned image that step runs in, ``apt-get install --download-only name=version …``
of the lock's pins, with the lock's dated snapshot and the repositories the step adds as
the only sources (:mod:`tritonlock.vendor.aptrun` runs it with buildah). What every step
downloaded becomes one flat repository in the bundle::

    DIR/apt/<name>_<version>_<arch>.deb   each downloaded package (the epoch left out)
    DIR/apt/Packages                      their control fields, Filename, Size and SHA256
    DIR/apt/sources.list                  ``deb [trusted=yes] file:…/apt ./``
    DIR/apt/apt.conf                      apt's configuration: only that source

Every one of those files is in the bundle's manifest, so ``vendor --check`` and ``build
--vendor`` re-hash each ``.deb`` before a build: that check, not apt's (``trusted=yes``,
no Release file), is what makes the flat repository trustworthy. The archives are read
the way ``resolve`` reads them, without verifying the Release files' OpenPGP signatures
(https, and a dated snapshot; plain http only on 127.0.0.1).
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from ..errors import ResolveError, UsageError
from ..model import Lock
from ..resolve.aptplan import apt_base
from ..sources import debian
from ..sources.mirrors import rewrite as mirrored
from ..upstream import AptInstall
from ..upstream.targets import TARGETS
from ..util.redact import redact
from .layout import APT, MOUNT_ROOT

PACKAGES = f"{APT}/Packages"
SOURCES = f"{APT}/sources.list"
CONF = f"{APT}/apt.conf"
# Where the bundle's apt folder is inside a RUN of the vendored build.
REPO_ROOT = f"{MOUNT_ROOT}/{APT}"
APT_CONFIG = f"{MOUNT_ROOT}/{CONF}"
# Where the closure is downloaded inside the container that computes it.
WORK = "/tritonlock-apt"
_FIELD = re.compile(r"^([A-Za-z0-9][A-Za-z0-9-]*):(.*)$")
_FILE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+~-]*$")
# Names the downloaded file in what the script prints (never written to the index).
FILE_FIELD = "Tritonlock-Downloaded"
_DROPPED = frozenset({"filename", "size", "md5sum", "sha1", "sha256", "sha512", FILE_FIELD.lower()})


@dataclass(frozen=True, slots=True, kw_only=True)
class AptJob:
    """One apt step: the pinned image it runs in (and that image's platform), the sources
    apt reads (one ``deb`` line each) and the pins it installs (``name=version``)."""

    step: str
    role: str
    image: str  # the lock's ref of the image
    digest: str
    platform: str  # the OCI platform the digest is the manifest of (``linux/arm64/v8``)
    sources: tuple[str, ...]
    packages: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Deb:
    """A downloaded package: its control fields as dpkg-deb prints them, and its bytes."""

    control: str
    sha256: str  # sha256:<hex>
    size: int

    def fields(self) -> dict[str, str]:
        return control_fields(self.control)

    def filename(self) -> str:
        return deb_filename(self.fields())


def jobs(
    lock: Lock,
    installs: Sequence[AptInstall],
    *,
    archive: str,
    mirrors: Sequence[tuple[str, str]] = (),
) -> tuple[AptJob, ...]:
    """One job per apt step of the recipe that the lock pins packages for, in recipe order."""
    apt = lock.apt
    if apt is None or not apt.packages:
        return ()
    if apt.snapshot is None:
        raise ResolveError(
            "apt: the lock pins packages but no snapshot; re-resolve it to vendor apt packages"
        )
    arch = TARGETS[lock.inputs.target].deb_arch
    base = apt_base(archive, arch=arch, release=lock.inputs.release, snapshot=apt.snapshot)
    base_lines = [
        _deb_line(mirrored(base.url.rstrip("/") + "/", mirrors), s, base.components)
        for s in base.suites
    ]
    images = {i.role: i for i in lock.image}
    by_step = {a.step: a for a in installs}
    out = []
    for step in dict.fromkeys(p.step for p in apt.packages):
        install = by_step.get(step)
        if install is None:
            raise ResolveError(
                f"apt: the lock pins packages for step {step!r}, which the recipe at the "
                "pinned server commit does not have; re-resolve the lock"
            )
        image = images.get(install.image)
        if image is None:
            raise ResolveError(
                f"apt: step {step!r} runs in image {install.image!r}, which the lock does not "
                "pin; re-resolve the lock"
            )
        extra = _step_lines(install, arch, base.codename, mirrors)
        pins = tuple(f"{p.name}={p.version}" for p in apt.packages if p.step == step)
        out.append(
            AptJob(
                step=step,
                role=image.role,
                image=image.ref,
                digest=image.digest,
                platform=image.platform,
                sources=(*base_lines, *extra),
                packages=pins,
            )
        )
    return tuple(out)


def _deb_line(url: str, suite: str, components: Sequence[str]) -> str:
    parts = urlsplit(url)
    local = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
    if not (parts.scheme == "https" and parts.hostname) and not local:
        raise UsageError(
            f"apt source {redact(url)}: only https is allowed (plain http only on 127.0.0.1); "
            "add an https mirror for it"
        )
    return " ".join(["deb", "[trusted=yes]", url, suite, *components])


def _step_lines(
    install: AptInstall, arch: str, codename: str, mirrors: Sequence[tuple[str, str]]
) -> list[str]:
    lines = []
    for line in install.repositories:
        try:
            source = debian.parse_deb_line(line, arch=arch, codename=codename)
        except ValueError as err:
            raise ResolveError(f"apt step {install.step}: {err}") from None
        if source is not None:
            lines.append(_deb_line(mirrored(source.url, mirrors), source.suite, source.components))
    return lines


def plan_hash(found: Sequence[AptJob]) -> str:
    """What a finished apt folder was made for (a resumed run reuses it only for the same)."""
    text = json.dumps([asdict(j) for j in found], sort_keys=True)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def script(job: AptJob, *, seeded: bool = False) -> str:
    """The shell run in the job's image: apt reads only ``WORK/sources.list``, keeps its
    lists and downloads under ``WORK``, then prints each package's control fields.

    ``seeded``: ``WORK/seed/`` holds packages an earlier run of the same job landed (from
    the shared cache, hashed there). apt first prints what it would download
    (``--print-uris``: its own closure, each file's name and hash); a seed of that name
    whose hash matches is moved into apt's archive folder, which apt then takes instead of
    downloading it, and its name is added to ``WORK/seeded``. Seeds apt does not ask for
    stay out of the bundle."""
    opts = " ".join(
        f"-o {o}"
        for o in (
            f"Dir::Etc::SourceList={WORK}/sources.list",
            f"Dir::Etc::SourceParts={WORK}/none",
            f"Dir::State::Lists={WORK}/lists",
            f"Dir::Cache::Archives={WORK}/debs",
        )
    )
    pins = " ".join(shlex.quote(p) for p in job.packages)
    install = f"-o APT::Install-Recommends=true install --download-only --allow-downgrades {pins}"
    seed = (
        f"apt-get -qq -y {opts} --print-uris {install} > {WORK}/uris; "
        "while read -r uri name size hash; do "
        'case "$name" in */*|.*|"") continue ;; esac; '
        f'f="{WORK}/seed/$name"; [ -f "$f" ] || continue; '
        'case "$hash" in MD5Sum:*) sum=md5sum ;; SHA256:*) sum=sha256sum ;; '
        "SHA512:*) sum=sha512sum ;; *) continue ;; esac; "
        'h=${hash#*:}; case "$h" in *[!0-9a-f]*|"") continue ;; esac; '
        'if echo "$h  $f" | $sum -c --status -; then '
        f'mv "$f" "{WORK}/debs/$name" && echo "$name" >> {WORK}/seeded; fi; '
        f"done < {WORK}/uris; "
    )
    return (
        f"set -e; mkdir -p {WORK}/lists/partial {WORK}/debs/partial; "
        f"apt-get -q {opts} update >&2; "
        + (seed if seeded else "")
        + f"apt-get -q -y {opts} {install} >&2; "
        f'for f in {WORK}/debs/*.deb; do [ -f "$f" ] || continue; '
        f'dpkg-deb -f "$f"; echo "{FILE_FIELD}: ${{f##*/}}"; echo; done'
    )


def control_fields(text: str) -> dict[str, str]:
    """The fields of one control stanza (names lowercased; continuation lines kept)."""
    out: dict[str, str] = {}
    last = None
    for line in text.splitlines():
        if line[:1] in (" ", "\t") and last is not None:
            out[last] += "\n" + line
            continue
        m = _FIELD.match(line)
        if m is None:
            raise ResolveError(f"apt: not a control field: {line[:80]!r}")
        last = m.group(1).lower()
        out[last] = m.group(2).strip()
    return out


def stanzas(text: str) -> list[str]:
    """The stanzas of what the job's script printed (blank-line separated)."""
    return [s.strip("\n") for s in re.split(r"\n\s*\n", text) if s.strip()]


def deb_filename(fields: dict[str, str]) -> str:
    """``name_version_arch.deb``, the version without its epoch (apt would write ``%3a``)."""
    try:
        name, version, arch = fields["package"], fields["version"], fields["architecture"]
    except KeyError as err:
        raise ResolveError(f"apt: a downloaded package has no {err.args[0]} field") from None
    version = version.split(":", 1)[1] if ":" in version else version
    parts = (name, version, arch)
    if not all(_FILE_PART.match(p) for p in parts):
        raise ResolveError(f"apt: package {name!r} {version!r} {arch!r} has an unusable name")
    return "_".join(parts) + ".deb"


def index(debs: Sequence[Deb]) -> str:
    """The flat repository's ``Packages``: each package's own control fields (any index
    fields dropped) and its Filename, Size and SHA256, sorted by file name."""
    by_name: dict[str, Deb] = {}
    for deb in debs:
        name = deb.filename()
        if name in by_name and by_name[name].sha256 != deb.sha256:
            raise ResolveError(f"apt: two different packages are both {name}")
        by_name[name] = deb
    out = []
    for name in sorted(by_name):
        deb = by_name[name]
        kept = [
            line
            for line in _own_lines(deb.control)
            if line.split(":", 1)[0].lower() not in _DROPPED
        ]
        sha = deb.sha256.split(":", 1)[1]
        out.append("\n".join([*kept, f"Filename: ./{name}", f"Size: {deb.size}", f"SHA256: {sha}"]))
    return "\n\n".join(out) + "\n" if out else ""


def _own_lines(control: str) -> list[str]:
    """The stanza's lines with each continuation joined to its field (for dropping)."""
    lines: list[str] = []
    for line in control.strip("\n").splitlines():
        if line[:1] in (" ", "\t") and lines:
            lines[-1] += "\n" + line
        else:
            lines.append(line)
    return lines


def listed(packages: str) -> dict[str, tuple[str, int]]:
    """``Filename`` → (sha256:<hex>, size) of a flat ``Packages`` this module wrote."""
    out = {}
    for stanza in stanzas(packages):
        f = control_fields(stanza)
        name = f.get("filename", "").removeprefix("./")
        if not name or "/" in name or not f.get("sha256") or not f.get("size", "").isdigit():
            raise ResolveError("apt: the bundle's Packages has an entry without a file")
        out[name] = ("sha256:" + f["sha256"], int(f["size"]))
    return out


def sources_list() -> str:
    """The build's only apt source: the bundle's flat repository (hash-checked, hence
    ``trusted=yes``)."""
    return f"deb [trusted=yes] file:{REPO_ROOT} ./\n"


def apt_conf() -> str:
    """What ``APT_CONFIG`` names in a vendored build's apt RUNs: apt reads the bundle's
    source and no other (``sources.list.d`` is pointed at a folder that does not exist)."""
    return (
        f'Dir::Etc::SourceList "{REPO_ROOT}/sources.list";\n'
        f'Dir::Etc::SourceParts "{REPO_ROOT}/none";\n'
    )
