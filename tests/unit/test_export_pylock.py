"""`tritonlock export pylock`: PEP 751 text for one install step, read back with
``packaging.pylock`` and selected for the target (not this machine)."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import replace

import pytest
from packaging.markers import Marker
from packaging.pylock import Pylock, PylockValidationError

from tritonlock import lockfile
from tritonlock.errors import UsageError
from tritonlock.export.fileurls import _writable
from tritonlock.export.pylock import export_pylock, marker, pylock
from tritonlock.model import Index, Inputs, Lock, Release, Sha256, WheelFile, WheelPin
from tritonlock.resolve.pytarget import Target, marker_env, tags

H1, H2, H3 = (Sha256("sha256:" + c * 64) for c in "123")
FILES = "https://files.example/packages/"
MARKUPSAFE = "MarkupSafe-2.1.5-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"


def pin(
    step: str, name: str, version: str, *files: tuple[str, Sha256], sdist: bool = False
) -> WheelPin:
    return WheelPin(
        step=step,
        image="base",
        name=name,
        version=version,
        index="pypi",
        files=tuple(WheelFile(name=n, sha256=h, size=10) for n, h in files),
        sdist=sdist,
    )


LOCK = lockfile.seal(
    Lock(
        inputs=Inputs(release="25.04", target="igpu"),
        release=Release(facts=(("python", "3.12.3"),)),
        index=(Index(name="pypi", url="https://pypi.org/simple/"),),
        wheel=(
            pin("final", "MarkupSafe", "2.1.5", (MARKUPSAFE, H1)),
            pin("final", "six", "1.16.0", ("six-1.16.0-py2.py3-none-any.whl", H2)),
            pin("final", "onlysdist", "1.0", ("onlysdist-1.0.tar.gz", H3), sdist=True),
            pin("other", "six", "1.17.0", ("six-1.17.0-py2.py3-none-any.whl", H3)),
        ),
    )
)  # fmt: skip


def urls(pins: Sequence[WheelPin], indexes: Mapping[str, str]) -> dict[str, str]:
    assert indexes == {"pypi": "https://pypi.org/simple/"}
    return {f.name: FILES + f.name for p in pins for f in p.files}


def read(text: str) -> Pylock:
    return Pylock.from_dict(tomllib.loads(text))


def test_one_step_every_file_with_url_size_and_hash() -> None:
    doc = read(export_pylock(LOCK, "final", {}, urls))
    assert [(p.name, str(p.version)) for p in doc.packages] == [
        ("markupsafe", "2.1.5"),
        ("onlysdist", "1.0"),
        ("six", "1.16.0"),
    ]
    six = doc.packages[2]
    assert six.index == "https://pypi.org/simple/"
    assert six.wheels is not None
    (wheel,) = six.wheels
    assert (wheel.url, wheel.size, dict(wheel.hashes)) == (
        FILES + "six-1.16.0-py2.py3-none-any.whl",
        10,
        {"sha256": "2" * 64},
    )
    sdist = doc.packages[1].sdist
    assert sdist is not None and sdist.filename == "onlysdist-1.0.tar.gz"
    assert doc.tool == {
        "tritonlock": {
            "version": doc.tool["tritonlock"]["version"] if doc.tool else "",
            "content-hash": LOCK.content_hash,
            "step": "final",
            "release": "25.04",
            "target": "igpu",
        }
    }


def test_the_marker_is_the_targets_and_selects_every_file_there() -> None:
    doc = read(pylock(LOCK, "final", urls(LOCK.wheel, {"pypi": "https://pypi.org/simple/"}), {}))
    target = Target("3.12", "aarch64", (2, 39))
    env = marker_env(target)
    assert doc.environments == [Marker(marker(LOCK))]
    assert Marker(marker(LOCK)).evaluate(env)
    assert not Marker(marker(LOCK)).evaluate({**env, "platform_machine": "x86_64"})
    assert doc.requires_python is not None and "3.12.3" in doc.requires_python
    assert "3.11.9" not in doc.requires_python
    chosen = {
        pkg.name: dist.filename  # type: ignore[union-attr]
        for pkg, dist in doc.select(environment=env, tags=sorted(tags(target), key=str))  # type: ignore[arg-type]
    }
    assert chosen == {
        "markupsafe": MARKUPSAFE,
        "onlysdist": "onlysdist-1.0.tar.gz",
        "six": "six-1.16.0-py2.py3-none-any.whl",
    }


def test_same_lock_same_bytes_and_packaging_validates_its_round_trip() -> None:
    one = export_pylock(LOCK, "other", {}, urls)
    assert one == export_pylock(LOCK, "other", {}, urls)
    read(one).validate()
    broken = one.replace('lock-version = "1.0"', 'lock-version = "2.0"')
    with pytest.raises(PylockValidationError, match="not supported"):
        read(broken)


def test_an_index_given_by_name_is_used_and_written_only_without_a_credential() -> None:
    secret = "https://ci:s3cret@private.example/simple/"
    lock = lockfile.seal(replace(LOCK, index=(Index(name="pypi"),)))
    seen: dict[str, str] = {}

    def lookup(pins: Sequence[WheelPin], indexes: Mapping[str, str]) -> dict[str, str]:
        seen.update(indexes)
        return {f.name: FILES + f.name for p in pins for f in p.files}

    text = export_pylock(lock, "other", {"pypi": secret}, lookup)
    assert seen == {"pypi": secret}
    assert "s3cret" not in text and "index =" not in text


def test_a_file_url_that_carries_a_credential_is_refused() -> None:
    index = "https://host/AbCdEf0123456789xyz/simple/"
    assert _writable(FILES + "six.whl", index, "six.whl") == FILES + "six.whl"
    for url in (
        "https://u:p@files.example/six.whl",
        "https://files.example/six.whl?token=abc123",
        "https://host/AbCdEf0123456789xyz/packages/six.whl",
    ):
        with pytest.raises(UsageError, match="carries a credential") as err:
            _writable(url, index, "six.whl")
        assert "AbCdEf0123456789xyz" not in str(err.value) and "abc123" not in str(err.value)


def test_a_file_without_a_url_and_an_unknown_step_are_one_line_errors() -> None:
    with pytest.raises(UsageError, match=r"^MarkupSafe-2.1.5-.*\.whl: no URL known"):
        pylock(LOCK, "final", {}, {})
    with pytest.raises(UsageError, match="has no install step 'nope'"):
        export_pylock(LOCK, "nope", {}, urls)
