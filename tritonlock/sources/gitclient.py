"""Git as a subprocess: ask a remote for refs, read the few files of one commit.

Every call runs ``git`` without a shell, with ``GIT_TERMINAL_PROMPT=0``, only the
https/http/git/file/ssh transports allowed (``ext::`` never), ``--`` before every
URL, and a timeout that kills the whole process group. Credentials in an http(s) URL
(a mirror's ``https://USER:TOKEN@host/…``) never reach argv or a config file: git is
given the URL without them, and an in-memory credential helper, configured through
``GIT_CONFIG_COUNT``/``GIT_CONFIG_KEY_n``/``GIT_CONFIG_VALUE_n`` for that origin only
(other helpers reset, so none stores them), answers from the child's environment.
Trees are read with a shallow, blob-less, sparse fetch of one commit: only ``.gitmodules``,
``CMakeLists*.txt`` and ``*.cmake`` blobs cross the wire. :class:`TreeCache`
keeps what was read per (canonical URL, commit), so a second resolve of the same
inputs fetches no tree.

An abbreviated commit id (CMake accepts ``GIT_TAG 3e9dfa2``) is expanded by
:func:`commit_candidates` from the commits of every branch and tag, fetched without
trees or blobs (``--filter=tree:0``), as ``git clone`` and ``git checkout`` would
find it; a unique expansion is cached per (canonical URL, abbreviation) too.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tritonlock.upstream.cmake import is_cmake_file
from tritonlock.util import procs
from tritonlock.util.atomic import atomic_write_text
from tritonlock.util.redact import BadURL, redact, split_url

_PROTOCOLS = ("https", "http", "git", "file", "ssh")
_CONFIG = [
    "-c",
    "protocol.allow=never",
    *(x for p in _PROTOCOLS for x in ("-c", f"protocol.{p}.allow=always")),
    "-c",
    "protocol.ext.allow=never",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "init.defaultBranch=main",
    "-c",
    "advice.detachedHead=false",
]
SPARSE = ("/.gitmodules", "CMakeLists*.txt", "*.cmake")


class GitFailed(Exception):
    """A git subprocess failed; ``reason`` is a short classification of its stderr."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


NOT_AVAILABLE = "commit not available"
_REASONS = (
    (
        r"could not read Username|Authentication failed|terminal prompts disabled|"
        r"HTTP Basic: Access denied|returned error: 401|returned error: 403|"
        r"Permission denied \(publickey",
        "authentication required (configure a credential helper)",
    ),
    (
        r"Could not resolve host|Name or service not known|Temporary failure in name resolution",
        "host not found",
    ),
    (
        r"Connection refused|Failed to connect|unable to connect|Connection reset|"
        r"No route to host|Network is unreachable",
        "unreachable",
    ),
    (
        r"not our ref|unadvertised object|no such remote ref|couldn't find remote ref|"
        r"not a valid object|bad object|unable to read tree|remote error: .*(missing|not found)",
        NOT_AVAILABLE,
    ),
    (
        r"does not appear to be a git repository|repository .* not found|no such repository|"
        r"not found: did you run|"
        r"returned error: 404|not valid: is this a git repository|"
        r"protocol error|unexpected (disconnect|end)|invalid server response|bad line length",
        "not a git repository",
    ),
)


def classify(stderr: str) -> str:
    """A short reason for a git failure, from its stderr."""
    for pattern, reason in _REASONS:
        if re.search(pattern, stderr, re.IGNORECASE):
            return reason
    return said(stderr)


def said(stderr: str) -> str:
    """git's whole message on one line: git daemon's "Could not read from remote
    repository." says why only before its last line ("and the repository exists.")."""
    lines = [ln.strip().removeprefix("fatal: ") for ln in stderr.splitlines() if ln.strip()]
    return redact(" ".join(lines) or "git failed")[:300]


# A server that dropped the connection (git daemon over its --max-connections, a proxy's
# limit): asked again, after a pause, unless the server said why it refused.
_DROPPED = re.compile(
    r"Connection reset by peer|the remote end hung up unexpectedly|early EOF|"
    r"Could not read from remote repository",
    re.IGNORECASE,
)
_REFUSED = re.compile(
    r"remote error:|not found|does not appear to be|access denied|Permission denied|"
    r"Connection refused|Could not resolve|No route to host|timed out|"
    r"possible repository corruption|unable to read [0-9a-f]{40}",
    re.IGNORECASE,
)
RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0)
_pause = time.sleep  # tests replace it


def dropped(stderr: str) -> bool:
    """Whether git failed because the server dropped the connection (worth asking again)."""
    return bool(_DROPPED.search(stderr)) and not _REFUSED.search(stderr)


_REPO_VARS = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
)


def _env() -> dict[str, str]:
    """The caller's environment without repository overrides, and never a prompt."""
    env = {k: v for k, v in os.environ.items() if k not in _REPO_VARS}
    env.update(
        GIT_TERMINAL_PROMPT="0",
        GCM_INTERACTIVE="never",
        GIT_PROTOCOL_FROM_USER="0",
        LC_ALL="C",
        LANGUAGE="C",
    )
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    return env


# Answers git's "get" from the environment; "store" and "erase" are ignored. The secret is
# in neither this text nor argv: only in TRITONLOCK_GIT_PASSWORD of the git child.
_HELPER = (
    '!f() { test "$1" = get || exit 0; printf "username=%s\\npassword=%s\\n" '
    '"$TRITONLOCK_GIT_USERNAME" "$TRITONLOCK_GIT_PASSWORD"; }; f'
)


def git_url(fetch_url: str) -> str:
    """What git is given for ``fetch_url``: an http(s) URL without its credentials."""
    if not fetch_url.startswith(("https://", "http://")):
        return fetch_url
    try:
        return split_url(fetch_url)[0]
    except BadURL as err:
        raise GitFailed(f"the URL {err}") from None


def credential_env(fetch_url: str) -> dict[str, str]:
    """The environment that lets git authenticate to ``fetch_url``'s origin with the
    credentials in it (none for a URL without them, or not http(s))."""
    if not fetch_url.startswith(("https://", "http://")):
        return {}
    try:
        clean, creds = split_url(fetch_url)
    except BadURL as err:
        raise GitFailed(f"the URL {err}") from None
    if creds is None:
        return {}
    parts = urlsplit(clean)
    key = f"credential.{parts.scheme}://{parts.netloc}.helper"
    try:
        n = max(int(os.environ.get("GIT_CONFIG_COUNT", "0")), 0)
    except ValueError:
        n = 0
    return {
        "GIT_CONFIG_COUNT": str(n + 2),
        f"GIT_CONFIG_KEY_{n}": key,
        f"GIT_CONFIG_VALUE_{n}": "",  # resets the helpers for this origin: none stores it
        f"GIT_CONFIG_KEY_{n + 1}": key,
        f"GIT_CONFIG_VALUE_{n + 1}": _HELPER,
        "TRITONLOCK_GIT_USERNAME": creds.username,
        "TRITONLOCK_GIT_PASSWORD": creds.password or "",
    }


def run_git(
    args: list[str], *, cwd: Path | None = None, timeout: float, remote: str | None = None
) -> str:
    """Run ``git <args>``; return stdout or raise :class:`GitFailed`. ``remote`` is the URL
    (credentials and all) that the command may contact: only its :func:`git_url` may be in
    ``args``; its credentials go to git's credential helper."""
    env = {**_env(), **(credential_env(remote) if remote else {})}
    for pause in (*RETRY_DELAYS, None):
        try:
            proc = procs.run(["git", *_CONFIG, *args], cwd=cwd, env=env, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise GitFailed(f"timed out after {timeout:g}s") from None
        except FileNotFoundError:
            raise GitFailed("git is not installed (Debian package git)") from None
        if proc.returncode == 0:
            return proc.stdout.decode("utf-8", "replace")
        stderr = proc.stderr.decode("utf-8", "replace")
        if remote is None or not dropped(stderr):
            raise GitFailed(classify(stderr))
        if pause is None:
            tries = len(RETRY_DELAYS) + 1
            raise GitFailed(
                f"the server dropped the connection {tries} times (over its connection "
                f"limit?): {said(stderr)}"
            )
        _pause(pause * (1 + random.random()))
    raise AssertionError("unreachable")


def ls_remote(url: str, patterns: list[str], *, timeout: float) -> list[tuple[str, str]]:
    """``git ls-remote -- url patterns...`` as (refname, object id) pairs, peeled tags too.

    A pattern does not match its own ``^{}`` line, so each is asked for twice.
    """
    peeled = [f"{p}^{{}}" for p in patterns]
    args = ["ls-remote", "--", git_url(url), *patterns, *peeled]
    out = run_git(args, timeout=timeout, remote=url)
    pairs: list[tuple[str, str]] = []
    for line in out.splitlines():
        oid, _, name = line.partition("\t")
        if re.fullmatch(r"[0-9a-f]{40}", oid) and name:
            pairs.append((name, oid))
    return pairs


@dataclass(frozen=True, slots=True, kw_only=True)
class Tree:
    """What tritonlock needs of one commit."""

    commit: str
    committed: int
    gitlinks: tuple[tuple[str, str], ...] = ()  # (path, commit)
    gitmodules: tuple[tuple[str, str, str], ...] = ()  # (name, key, value)
    cmake_files: tuple[tuple[str, str], ...] = ()  # (path, text)
    gitmodules_error: str | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "commit": self.commit,
                "committed": self.committed,
                "gitlinks": self.gitlinks,
                "gitmodules": self.gitmodules,
                "cmake_files": self.cmake_files,
                "gitmodules_error": self.gitmodules_error,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Tree:
        d = json.loads(text)
        return cls(
            commit=d["commit"],
            committed=int(d["committed"]),
            gitlinks=tuple((p, c) for p, c in d["gitlinks"]),
            gitmodules=tuple((n, k, v) for n, k, v in d["gitmodules"]),
            cmake_files=tuple((p, t) for p, t in d["cmake_files"]),
            gitmodules_error=d.get("gitmodules_error"),
        )


# One process for the commit fetched, its time and its whole tree (what ``show`` and
# ``ls-tree -r`` gave in two): a shallow commit has no parents, so ``--root`` lists every
# file as added. The options keep a user's configuration from changing the listing
# (``diff.ignoreSubmodules`` would hide gitlinks, rename detection would read blobs,
# ``log.showSignature`` would print into it); each exists since git 2.10.
LISTING = [
    "log", "-1", "--format=%H %ct", "--raw", "-r", "-z", "--root", "--no-abbrev",
    "--no-renames", "--ignore-submodules=none", "--no-ext-diff", "--no-textconv",
    "--no-show-signature",
]  # fmt: skip


def listing(out: str) -> tuple[str, int, list[tuple[str, str, str, str]]]:
    """``git`` :data:`LISTING` output as (commit, commit time, entries), each entry
    (mode, type, oid, path) as ``git ls-tree -r`` gives it; GitFailed when it is not that."""
    head, _, rest = out.partition("\0")
    commit, _, committed = head.strip().partition(" ")
    fields = rest.lstrip("\n").split("\0")
    if not re.fullmatch(r"[0-9a-f]{40}", commit) or not committed.isdigit() or fields[-1]:
        raise GitFailed(f"unexpected git log output: {out[:80]!r}")
    rows: list[tuple[str, str, str, str]] = []
    for meta, path in zip(fields[0:-1:2], fields[1:-1:2], strict=True):
        parts = meta.removeprefix(":").split(" ")
        if len(parts) != 5 or parts[4] != "A" or not path:
            raise GitFailed(f"unexpected git log entry: {meta!r}")
        mode, oid = parts[1], parts[3]
        rows.append((mode, "commit" if mode == "160000" else "blob", oid, path))
    return commit, int(committed), rows


def _gitmodules(work: Path, timeout: float) -> tuple[tuple[tuple[str, str, str], ...], str | None]:
    path = work / ".gitmodules"
    if not path.is_file() or path.is_symlink():
        return (), None
    try:
        out = run_git(["config", "-f", ".gitmodules", "-z", "--list"], cwd=work, timeout=timeout)
    except GitFailed as err:
        return (), f".gitmodules is not valid ({err.reason})"
    rows: list[tuple[str, str, str]] = []
    for record in out.split("\0"):
        key, _, value = record.partition("\n")
        if key.startswith("submodule.") and key.count(".") >= 2:
            name, var = key[len("submodule.") :].rsplit(".", 1)
            rows.append((name, var, value))
    return tuple(rows), None


def _configure(git_dir: Path, url: str, patterns: Sequence[str]) -> None:
    """What ``git remote add origin URL`` and ``git sparse-checkout set --no-cone PATTERNS``
    write, written directly: two git processes fewer for each tree read (on 2 cores,
    starting processes is much of a cold resolve). Automatic maintenance is off: the
    fetch and the checkout's blob fetch would each start ``git maintenance run --auto``
    in a repository that lives for one read."""
    if any(c in url for c in "\n\r\0") or any("\n" in p for p in patterns):
        raise GitFailed(f"the URL or a sparse pattern holds a line break: {redact(url)!r}")
    quoted = '"' + url.replace("\\", "\\\\").replace('"', '\\"') + '"'
    with open(git_dir / "config", "a", encoding="utf-8") as config:
        config.write(
            '[remote "origin"]\n'
            f"\turl = {quoted}\n"
            "\tfetch = +refs/heads/*:refs/remotes/origin/*\n"
            "[core]\n\tsparseCheckout = true\n\tsparseCheckoutCone = false\n"
            "[maintenance]\n\tauto = false\n"
        )
    (git_dir / "info").mkdir(exist_ok=True)
    (git_dir / "info" / "sparse-checkout").write_text("".join(f"{p}\n" for p in patterns))


def sparse_fetch(
    work: Path, fetch_url: str, want: str, patterns: Sequence[str], *, timeout: float
) -> str:
    """Init ``work`` and fetch ``want`` (a ref or commit id) shallow and blob-less, with a
    sparse checkout of ``patterns`` (blobs outside them are never fetched); return the
    commit id fetched."""
    _fetch_sparse(work, fetch_url, want, patterns, timeout=timeout)
    return run_git(["rev-parse", "FETCH_HEAD^{commit}"], cwd=work, timeout=timeout).strip()


def _init(work: Path, *, timeout: float) -> None:
    """A new repository in ``work``: what git needs of what ``git init`` writes, written
    directly (one process fewer per tree read; no template hooks in a repository that
    lives for one read). A directory that holds a repository already gets ``git init``."""
    git_dir = work / ".git"
    if git_dir.exists():
        run_git(["init", "-q", str(work)], timeout=timeout)
        return
    for sub in ("objects/info", "objects/pack", "refs/heads", "refs/tags", "info"):
        (git_dir / sub).mkdir(parents=True)
    (git_dir / "HEAD").write_text("ref: refs/heads/main\n", encoding="utf-8")
    (git_dir / "config").write_text(
        "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n",
        encoding="utf-8",
    )


def _fetch_sparse(
    work: Path, fetch_url: str, want: str, patterns: Sequence[str], *, timeout: float
) -> None:
    _init(work, timeout=timeout)
    _configure(work / ".git", git_url(fetch_url), patterns)
    run_git(
        ["fetch", "-q", "--depth=1", "--filter=blob:none", "--no-tags", "origin", want],
        cwd=work,
        timeout=timeout,
        remote=fetch_url,
    )


def fetch_commit(work: Path, fetch_url: str, commit: str, *, timeout: float) -> str:
    """Init a bare ``work`` and fetch ``commit`` shallow, without blobs; the commit fetched."""
    run_git(["init", "-q", "--bare", str(work)], timeout=timeout)
    run_git(["remote", "add", "origin", "--", git_url(fetch_url)], cwd=work, timeout=timeout)
    run_git(
        ["fetch", "-q", "--depth=1", "--filter=blob:none", "--no-tags", "origin", commit],
        cwd=work,
        timeout=timeout,
        remote=fetch_url,
    )
    return run_git(["rev-parse", "FETCH_HEAD^{commit}"], cwd=work, timeout=timeout).strip()


def fetch_tree(fetch_url: str, commit: str, want: str, *, scratch: Path, timeout: float) -> Tree:
    """Fetch ``commit`` shallow and blob-less; read the tree. ``want`` is the ref name
    ``commit`` was read from (or ``commit``).

    A branch's commit is fetched by id, so git asks the server for no ref listing (one round
    trip fewer; protocol v2 serves any commit it has): what ls-remote said is pinned even if
    the branch moves meanwhile. A commit the server lacks (a force push) is asked for by its
    ref, to say where it went. A tag is fetched by name: a tag that moves during the resolve
    is an error. Raises :class:`GitFailed` with reason "moved to <sha>" when the ref fetched
    no longer points at ``commit``.
    """
    scratch.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="tree-", dir=scratch))
    first = want if want.startswith("refs/tags/") else commit
    try:
        try:
            _fetch_sparse(work, fetch_url, first, SPARSE, timeout=timeout)
        except GitFailed as err:
            if first == want or err.reason != NOT_AVAILABLE:
                raise
            _fetch_sparse(work, fetch_url, want, SPARSE, timeout=timeout)
        out = run_git([*LISTING, "FETCH_HEAD"], cwd=work, timeout=timeout)
        got, committed, entries = listing(out)
        if got != commit:
            raise GitFailed(f"moved to {got}")
        # checkout fetches the sparse patterns' blobs (a partial clone): it needs the remote
        run_git(["checkout", "-q", "--detach", commit], cwd=work, timeout=timeout, remote=fetch_url)
        gitmodules, problem = _gitmodules(work, timeout)
        cmake = [
            (p, (work / p).read_text("utf-8", "replace"))
            for mode, kind, _, p in entries
            if kind == "blob" and mode in ("100644", "100755") and is_cmake_file(p)
        ]
        return Tree(
            commit=commit,
            committed=committed,
            gitlinks=tuple((p, oid) for _, kind, oid, p in entries if kind == "commit"),
            gitmodules=gitmodules,
            cmake_files=tuple(sorted(cmake)),
            gitmodules_error=problem,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def commit_candidates(
    fetch_url: str, abbrev: str, *, scratch: Path, timeout: float
) -> tuple[str, ...]:
    """The commits of ``fetch_url``'s branches and tags that ``abbrev`` may name.

    One id when ``abbrev`` names exactly one commit, none when it names no commit, and
    every object it abbreviates when it is ambiguous. Only commits and tag objects are
    fetched (``--filter=tree:0``), into a scratch repository that is removed afterwards.
    """
    scratch.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="history-", dir=scratch))
    try:
        run_git(["init", "-q", "--bare", str(work)], timeout=timeout)
        run_git(["remote", "add", "origin", "--", git_url(fetch_url)], cwd=work, timeout=timeout)
        heads, tags = "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"
        run_git(
            ["fetch", "-q", "--filter=tree:0", "--no-tags", "origin", heads, tags],
            cwd=work,
            timeout=timeout,
            remote=fetch_url,
        )
        try:
            spec = f"{abbrev}^{{commit}}"
            out = run_git(["rev-parse", "--verify", "--quiet", spec], cwd=work, timeout=timeout)
            return (out.strip(),)
        except GitFailed:
            pass
        listed = run_git(["rev-parse", f"--disambiguate={abbrev}"], cwd=work, timeout=timeout)
        found = sorted(set(listed.split()))
        return tuple(found) if len(found) > 1 else ()
    finally:
        shutil.rmtree(work, ignore_errors=True)


class TreeCache:
    """Trees already read, one JSON file per (canonical URL, commit); and the commits
    abbreviations were expanded to, one file per (canonical URL, abbreviation)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _commit_path(self, url: str, abbrev: str) -> Path:
        key = hashlib.sha256(f"abbrev\n{url}\n{abbrev}".encode()).hexdigest()
        return self.root / "abbrev" / key[:2] / key

    def get_commit(self, url: str, abbrev: str) -> str | None:
        """The commit ``abbrev`` was expanded to, or None."""
        try:
            commit = self._commit_path(url, abbrev).read_text("utf-8").strip()
        except (OSError, ValueError):
            return None
        ok = re.fullmatch(r"[0-9a-f]{40}", commit) and commit.startswith(abbrev)
        return commit if ok else None

    def put_commit(self, url: str, abbrev: str, commit: str) -> None:
        atomic_write_text(self._commit_path(url, abbrev), commit + "\n")

    def _path(self, url: str, commit: str) -> Path:
        key = hashlib.sha256(f"{url}\n{commit}".encode()).hexdigest()
        return self.root / "trees" / key[:2] / f"{key}.json"

    def get(self, url: str, commit: str) -> Tree | None:
        path = self._path(url, commit)
        try:
            tree = Tree.from_json(path.read_text("utf-8"))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return tree if tree.commit == commit else None

    def put(self, url: str, tree: Tree) -> None:
        atomic_write_text(self._path(url, tree.commit), tree.to_json())


class SubprocessGit:
    """The real :class:`tritonlock.resolve.git.GitSource`: git subprocesses plus a cache."""

    def __init__(self, cache_dir: Path, *, timeout: float = 120.0) -> None:
        self.cache = TreeCache(cache_dir)
        self.scratch = cache_dir / "tmp"
        self.timeout = timeout

    def ls_remote(self, fetch_url: str, patterns: list[str]) -> list[tuple[str, str]]:
        return ls_remote(fetch_url, patterns, timeout=self.timeout)

    def cached_tree(self, url: str, commit: str) -> Tree | None:
        return self.cache.get(url, commit)

    def read_tree(self, url: str, fetch_url: str, commit: str, want: str) -> Tree:
        tree = fetch_tree(fetch_url, commit, want, scratch=self.scratch, timeout=self.timeout)
        self.cache.put(url, tree)
        return tree

    def cached_commit(self, url: str, abbrev: str) -> str | None:
        return self.cache.get_commit(url, abbrev)

    def expand(self, url: str, fetch_url: str, abbrev: str) -> tuple[str, ...]:
        found = commit_candidates(fetch_url, abbrev, scratch=self.scratch, timeout=self.timeout)
        if len(found) == 1:
            self.cache.put_commit(url, abbrev, found[0])
        return found
