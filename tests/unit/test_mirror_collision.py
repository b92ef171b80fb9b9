"""The mirror-collision replay, offline (issue 14): a lock gets a crafted second ``[[git]]``
entry (or submodule) that spells a pinned repository another way and pins its ref to
another commit, and is re-sealed, as an attacker can. ``verify`` and ``build`` refuse every
such lock with one line naming the entry; spellings of other repositories, and second
spellings that agree with the pin, still pass.

The same replay against real git (the emitted sources stage and the compile stage's clone)
is ``tests/integration/test_mirror_collision_clone.py``.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tritonlock import lockfile
from tritonlock.cli import main
from tritonlock.lockfile import schema
from tritonlock.model import Commit, GitPin, Lock, Submodule, repo_key
from tritonlock.resolve import rules
from tritonlock.resolve.repos import same_repository
from tritonlock.verify.offline import verify

VALID = Path(__file__).parent.parent / "data" / "valid" / "complete.lock"
ORG = "https://github.com/triton-inference-server"
PINNED = f"{ORG}/core"  # as upstream's build.py clones it (with .git)
OTHER = Commit("f" * 40)
EVIL = "zz-evil"


def _lock() -> Lock:
    """The complete lock, with core pinned at ``{ORG}/core.git`` on r25.04."""
    lock = lockfile.load(VALID)
    core = GitPin(name="core", url=f"{PINNED}.git", ref="r25.04", commit=Commit("c" * 40))
    return lockfile.seal(replace(lock, git=(*lock.git, core)))


BASE = _lock()


def _with(*extra: GitPin) -> Lock:
    """The base lock with ``extra`` entries, in canonical order and re-sealed."""
    return lockfile.seal(replace(BASE, git=(*BASE.git, *extra)))


def _index(lock: Lock, name: str = EVIL) -> int:
    return next(i for i, g in enumerate(lock.git) if g.name == name)


def _problems(lock: Lock) -> list[str]:
    """What verify finds in the lock's data: the schema first, then the rules."""
    found = schema.problems(lock.to_dict())
    return found or rules.check(lock)


def _refused(lock: Lock, where: str) -> list[str]:
    """The problems naming ``where`` (``git[N]``); each is one line."""
    found = _problems(lock)
    assert all("\n" not in p for p in found)
    return [p for p in found if p.startswith(f"{where}.")]


def _case(draw: st.DrawFn, text: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.swapcase() if f else c for c, f in zip(text, flips, strict=True))


def _percent(draw: st.DrawFn, text: str) -> str:
    """Some characters of ``text`` as ``%XX`` (upper or lower hex)."""
    out = []
    for c in text:
        if c != "/" and draw(st.integers(0, 4)) == 0:
            out.append(f"%{ord(c):02X}" if draw(st.booleans()) else f"%{ord(c):02x}")
        else:
            out.append(c)
    return "".join(out)


@st.composite
def respellings(draw: st.DrawFn) -> str:
    """Another spelling of ``{ORG}/core``: scheme, host case, a default port, a trailing
    dot, path case and percent-encoding, ``/``, ``.git`` and ``/.git`` tails."""
    scheme = draw(st.sampled_from(["https", "http", "git"]))
    host = _case(draw, "github.com") + draw(st.sampled_from(["", "."]))
    port = {"https": ":443", "http": ":80", "git": ":9418"}[scheme]
    host += draw(st.sampled_from(["", port]))
    path = draw(st.sampled_from(["triton-inference-server/core", "triton-inference-server/CORE"]))
    path = _percent(draw, _case(draw, path) if draw(st.booleans()) else path)
    tail = "".join(draw(st.lists(st.sampled_from(["/", ".git", "/.git", ".GIT"]), max_size=3)))
    return f"{scheme}://{host}/{path}{tail}"


SPELLINGS = [
    f"{ORG}/core",
    f"{ORG}/core/",
    f"{ORG}/core.git/",
    f"{ORG}/core.git.git",
    f"{ORG}/core/.git",
    f"{ORG}/CORE",
    f"{ORG}/Core.git",
    f"{ORG}/%63ore",
    f"{ORG}/c%6Fre.git",
    "https://GITHUB.COM/triton-inference-server/core",
    "https://github.com:443/triton-inference-server/core",
    "https://github.com./triton-inference-server/core",
    "http://github.com/triton-inference-server/core",
    "git://github.com/triton-inference-server/core.git",
    "git://github.com:9418/triton-inference-server/core",
    f"{ORG}/x%2F..%2Fcore",
    "https://github.com/triton-inference-server%2Fcore",
]


@pytest.mark.parametrize("url", SPELLINGS)
def test_another_spelling_at_another_commit_is_refused_naming_the_entry(url: str) -> None:
    lock = _with(GitPin(name=EVIL, url=url, ref="r25.04", commit=OTHER))
    i = _index(lock)
    assert _refused(lock, f"git[{i}]") == [
        f"git[{i}].commit: {url} 'r25.04' is ffffffffffff here but cccccccccccc in "
        f"git[{_index(lock, 'core')}] (the same repository); one ref, one commit"
    ]


@settings(max_examples=300, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(url=respellings())
@example(url=f"{ORG}/core.git.git.git/")
def test_every_respelling_is_refused_by_the_schema_or_the_rules(url: str) -> None:
    """Each spelling the strategy makes is the schema's (``git[N].url``) or the one-ref rule's
    (``git[N].commit``) to refuse, whichever comes first, never passed."""
    lock = _with(GitPin(name=EVIL, url=url, ref="r25.04", commit=OTHER))
    found = _refused(lock, f"git[{_index(lock)}]")
    assert len(found) == 1, (url, _problems(lock))
    assert re.match(
        r"git\[\d+\]\.(url: not an allowed URL|commit: .* one ref, one commit)", found[0]
    )


@settings(max_examples=100, derandomize=True)
@given(url=respellings())
def test_a_respelling_that_agrees_with_the_pin_passes(url: str) -> None:
    """At the pinned commit (the same repository read again), or at a ref of its own."""
    for ref, commit in (("r25.04", Commit("c" * 40)), ("v9.9", OTHER)):
        lock = _with(GitPin(name=EVIL, url=url, ref=ref, commit=commit))
        found = _problems(lock)
        assert not [p for p in found if not p.startswith(f"git[{_index(lock)}].url: not an")]


@pytest.mark.parametrize(
    "url",
    [
        f"{ORG}/core-extra",
        f"{ORG}/cor",
        f"{ORG}/core.gi",
        f"{ORG}/core.git.x",
        f"{ORG}/core_",
        f"{ORG}/core2.git",
        "https://evil.example/triton-inference-server/core",
        "https://github.com:8443/triton-inference-server/core",
        "https://evil.example/github.com/triton-inference-server/core",
    ],
)
def test_other_repositories_may_pin_the_same_ref_elsewhere(url: str) -> None:
    lock = _with(GitPin(name=EVIL, url=url, ref="r25.04", commit=OTHER))
    assert _problems(lock) == []
    assert repo_key(url) != repo_key(PINNED)
    assert same_repository(url) != same_repository(PINNED)


def test_a_folder_inside_another_repository_mirror_is_refused() -> None:
    """``…/core.git/refs/heads/x`` would be initialised inside core's bare mirror."""
    url = f"{ORG}/core.git/refs/heads/x"
    lock = _with(GitPin(name=EVIL, url=url, ref="main", commit=OTHER))
    i = _index(lock)
    assert _refused(lock, f"git[{i}]") == [
        f"git[{i}].url: {url} goes on past the repository {ORG}/core.git "
        f"(git[{_index(lock, 'core')}].url): its mirror folder would lie inside "
        "github.com/triton-inference-server/core.git"
    ]


def test_a_submodule_inside_another_mirror_is_refused_too() -> None:
    url = f"{ORG}/core.git/objects/pack"
    evil = GitPin(
        name=EVIL,
        url="https://evil.example/x",
        ref="main",
        commit=OTHER,
        submodules=(Submodule(path="s", url=url, commit=OTHER),),
    )
    lock = _with(evil)
    found = _refused(lock, f"git[{_index(lock)}]")
    assert found == [
        f"git[{_index(lock)}].submodules[0].url: {url} goes on past the repository "
        f"{ORG}/core.git (git[{_index(lock, 'core')}].url): its mirror folder would lie inside "
        "github.com/triton-inference-server/core.git"
    ]


def test_two_repositories_that_would_share_a_folder_are_refused() -> None:
    """A port is written ``_port`` in the folder name, and hosts may hold ``_``."""
    lock = _with(
        GitPin(name="aa-one", url="https://h.example:1/x", ref="main", commit=OTHER),
        GitPin(name=EVIL, url="https://h.example_1/x", ref="main", commit=Commit("e" * 40)),
    )
    i = _index(lock)
    assert _refused(lock, f"git[{i}]") == [
        f"git[{i}].url: https://h.example_1/x and https://h.example:1/x "
        f"(git[{_index(lock, 'aa-one')}].url) are different repositories but would share the "
        "mirror folder h.example_1/x.git; spell one of them differently"
    ]


def test_a_submodule_spelling_a_pinned_repository_adds_a_commit_only() -> None:
    """A submodule has no ref: it may name a pinned repository at any commit (the mirror
    holds both; the pinned ref still points at the pin)."""
    evil = GitPin(
        name=EVIL,
        url="https://evil.example/x",
        ref="main",
        commit=OTHER,
        submodules=(Submodule(path="s", url=f"{ORG}/CORE.git.git/", commit=OTHER),),
    )
    assert _problems(_with(evil)) == []


def _write(tmp_path: Path, lock: Lock) -> Path:
    path = tmp_path / "triton.lock"
    path.write_text(lockfile.dumps(lock))
    return path


@pytest.mark.parametrize(
    "url",
    [f"{ORG}/core.git.git", f"{ORG}/CORE", "https://github.com:443/triton-inference-server/%63ore"],
)
def test_verify_and_build_refuse_the_resealed_lock(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = _with(GitPin(name=EVIL, url=url, ref="r25.04", commit=OTHER))
    path = _write(tmp_path, lock)
    report = verify(path)
    assert lockfile.check_hash(lockfile.read_raw(path)) == []  # re-sealed: the hash is right
    i = _index(lock)
    assert [p for p in report.problems if p.startswith("git")] == [
        f"git[{i}].commit: {url} 'r25.04' is ffffffffffff here but cccccccccccc in "
        f"git[{_index(lock, 'core')}] (the same repository); one ref, one commit"
    ]
    assert main(["verify", str(path)]) == 1
    out, _ = capsys.readouterr()
    assert f"git[{i}].commit: {url} 'r25.04'" in out
    recipe = tmp_path / "recipe"
    recipe.mkdir()
    assert main(["build", str(path), "--recipe", str(recipe), "-o", str(tmp_path / "out")]) == 1
    out, err = capsys.readouterr()
    assert f"git[{i}].commit: {url} 'r25.04'" in out + err
    assert "FAILED: nothing was written" in err
    assert not (tmp_path / "out").exists()
