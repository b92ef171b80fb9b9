"""Resolve every release × target against real upstream and print a markdown table.

Real upstream is the test oracle (issue 12): serve bare copies of the upstream repositories on
127.0.0.1 (``tools/serve-upstream.sh``), then run, from the repository root::

    python3 tools/upstream_matrix.py \\
        --git-mirror https://github.com/=git://127.0.0.1:9419/github.com/ -o matrix.md

Each cell is ``python3 -m tritonlock resolve RELEASE --target T --backend python
[--backend vllm] --allow-partial --json -o OUT`` run from this checkout. The table says
*complete*, or lists each ``[[unresolved]]`` entry, or the one error line of a resolve that
failed outright. What failed only because a host, registry or repository cannot be reached
from here is grouped apart ("unreachable from here: stand-in needed") from everything else,
which is a defect to look at. Runs are sequential, or two at a time with ``--parallel 2``.

With ``--standins`` a cell whose images, downloads or apt archives cannot be reached is
resolved again with stand-ins on 127.0.0.1 for exactly those (``tools/standins.py``); the
table names them, and their digests, hashes and apt versions are the stand-ins'.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # this checkout's tritonlock, as the cells' `python3 -m` get
    sys.path.insert(1, str(ROOT))

from standins import Standins  # noqa: E402

from tritonlock.errors import TritonLockError  # noqa: E402

TARGETS = ("x86_64", "sbsa", "igpu")
FIRST, LAST = (24, 12), (26, 8)
SERVER = "https://github.com/triton-inference-server/server"

# A reason that only says a host or registry cannot be reached from this machine.
_UNREACHABLE = re.compile(
    r"connection failed|ConnectError|ConnectTimeout|could not resolve host|Name or service not"
    r"|Temporary failure in name resolution|Network is unreachable|registry unreachable",
    re.IGNORECASE,
)
# A reason that only says the served mirrors lack a repository, branch or commit (a snapshot
# too big to bring here, or older than the server's).
_NOT_MIRRORED = re.compile(
    r"access denied or repository not exported|commit not available|not our ref"
    r"|has no branch or tag 'r[0-9]{2}\.[0-9]{2}'",
    re.IGNORECASE,
)
# Files a step needed from a tree that was not pinned: "(not read: core:pyproject.toml, …)".
_NOT_READ = re.compile(r"\(not read: ([^)]*)\)")
_RELEASE = re.compile(r"^(?:refs/heads/)?r(\d\d)\.(\d\d)$")


@dataclass(frozen=True)
class Entry:
    """One ``[[unresolved]]`` entry of a partial lock."""

    kind: str
    what: str
    why: str

    @property
    def group(self) -> str:
        """``unreachable`` (a stand-in is needed), ``mirror`` (the oracle lacks it) or
        ``other`` (a defect, or an input truly absent from the sources)."""
        if _UNREACHABLE.search(self.why):
            return "unreachable"
        if _NOT_MIRRORED.search(self.why):
            return "mirror"
        return "other"


@dataclass(frozen=True)
class Cell:
    """The outcome of one resolve."""

    release: str
    target: str
    vllm: bool
    complete: bool
    entries: tuple[Entry, ...]
    error: str  # the error line of a resolve that wrote no lock, else ""
    standins: tuple[str, ...] = ()  # what stand-ins the lock's pins came from

    @property
    def status(self) -> str:
        if self.error:
            return "error"
        if self.complete:
            return "complete"
        other = any(self.group(e) == "other" for e in self.entries)
        return "partial" if other else "partial (reach)"

    def group(self, entry: Entry) -> str:
        """``entry.group``, except that an entry left unresolved only because it reads files
        of a repository the mirrors lack (``not read: core:pyproject.toml``) is ``mirror``."""
        if entry.group != "other":
            return entry.group
        unpinned = {e.what for e in self.entries if e.kind == "git" and e.group == "mirror"}
        match = _NOT_READ.search(entry.why)
        trees = {f.strip().split(":")[0] for f in match.group(1).split(",")} if match else set()
        return "mirror" if trees and trees <= unpinned else "other"


def mirrored(url: str, mirrors: Sequence[str]) -> str:
    """``url`` rewritten by the longest matching ``PREFIX=MIRROR`` (git's insteadOf)."""
    best = ""
    target = url
    for option in mirrors:
        prefix, _, mirror = option.partition("=")
        if url.startswith(prefix) and len(prefix) > len(best):
            best, target = prefix, mirror + url[len(prefix) :]
    return target


def releases(mirrors: Sequence[str]) -> list[str]:
    """The rYY.MM branches from r24.12 to r26.08 that the (mirrored) server repo has."""
    url = mirrored(SERVER, mirrors)
    out = subprocess.run(
        ["git", "ls-remote", "--heads", url, "r2*"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"upstream_matrix: {url}: {out.stderr.strip() or 'ls-remote failed'}")
    found = set()
    for line in out.stdout.splitlines():
        match = _RELEASE.match(line.split("\t")[-1])
        if match:
            version = (int(match.group(1)), int(match.group(2)))
            if FIRST <= version <= LAST:
                found.add(version)
    return [f"{y:02d}.{m:02d}" for y, m in sorted(found)]


def command(release: str, target: str, vllm: bool, out: Path, passed: Sequence[str]) -> list[str]:
    args = [sys.executable, "-m", "tritonlock", "resolve", release, "--target", target]
    args += ["--backend", "python"] + (["--backend", "vllm"] if vllm else [])
    return [*args, "--allow-partial", "--json", "-q", "-o", str(out), *passed]


def cell_name(release: str, target: str, vllm: bool) -> str:
    return f"{release}-{target}-python{'-vllm' if vllm else ''}"


def run(
    release: str,
    target: str,
    vllm: bool,
    out_dir: Path,
    passed: Sequence[str],
    timeout: int,
    standins: Standins | None = None,
) -> Cell:
    """One cell; with ``standins``, resolved again (at most twice more) for as long as new
    stand-ins can be made for what was unreachable."""
    cell = resolve_once(release, target, vllm, out_dir, passed, timeout)
    name = cell_name(release, target, vllm)
    (out_dir / f"{name}.standins").unlink(missing_ok=True)
    extra: list[str] = []
    if standins is None:
        return cell
    for _ in range(3):
        unreachable = [(e.kind, e.what) for e in cell.entries if e.group == "unreachable"]
        try:
            more = standins.prepare(name, out_dir / f"{name}.lock", unreachable, passed)
        except (TritonLockError, OSError, RuntimeError) as err:  # the cell says so; others run
            (out_dir / f"{name}.stderr").write_text(f"stand-ins: {err}\n")
            (out_dir / f"{name}.lock").unlink(missing_ok=True)
            return replace(cell, error=f"stand-ins: {err}")
        if more is None:
            break
        extra = more
        cell = resolve_once(release, target, vllm, out_dir, [*passed, *extra], timeout)
    if extra:
        cell = replace(cell, standins=standins.labels(name))
        (out_dir / f"{name}.standins").write_text("".join(f"{s}\n" for s in cell.standins))
    return cell


def resolve_once(
    release: str, target: str, vllm: bool, out_dir: Path, passed: Sequence[str], timeout: int
) -> Cell:
    name = cell_name(release, target, vllm)
    lock = out_dir / f"{name}.lock"
    try:
        done = subprocess.run(
            command(release, target, vllm, lock, passed),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Cell(release, target, vllm, False, (), f"timed out after {timeout} s")
    (out_dir / f"{name}.stderr").write_text(done.stderr)
    try:
        summary = json.loads(done.stdout)
    except json.JSONDecodeError:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        error = lines[-1] if lines else f"exit {done.returncode}"
        return Cell(release, target, vllm, False, (), error)
    entries = tuple(
        Entry(str(u.get("kind", "")), str(u.get("what", "")), str(u.get("why", "")))
        for u in summary.get("unresolved", [])
    )
    return Cell(release, target, vllm, bool(summary.get("complete")), entries, "")


def reread(
    release: str,
    target: str,
    vllm: bool,
    out_dir: Path,
    _passed: Sequence[str],
    _timeout: int,
    _standins: Standins | None = None,
) -> Cell:
    """The cell of an earlier run, from the lock (or the error line) it left in ``out_dir``."""
    name = cell_name(release, target, vllm)
    lock, stderr = out_dir / f"{name}.lock", out_dir / f"{name}.stderr"
    used = out_dir / f"{name}.standins"
    standins = tuple(used.read_text().splitlines()) if used.is_file() else ()
    if not lock.is_file():
        lines = stderr.read_text().splitlines() if stderr.is_file() else []
        lines = [line for line in lines if line.strip()]
        return Cell(release, target, vllm, False, (), lines[-1] if lines else "not run")
    data = tomllib.loads(lock.read_text())
    entries = tuple(
        Entry(str(u["kind"]), str(u["what"]), str(u["why"])) for u in data.get("unresolved", [])
    )
    return Cell(release, target, vllm, not entries, entries, "", standins)


def _grouping(why: str) -> str:
    """A reason with its release numbers generalised, so one cause is listed once."""
    return re.sub(r"(?<![0-9.])2[0-9]\.[0-9]{2}(?![0-9])", "YY.MM", why)


def short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _where(entries: Sequence[Entry]) -> str:
    return ", ".join(f"{e.kind}: {short(e.what, 50)}" for e in entries) or "–"


def _span(releases: set[str]) -> str:
    ordered = sorted(releases)
    if len(ordered) == 1:
        return ordered[0]
    return f"{len(ordered)} releases, {ordered[0]}–{ordered[-1]}"


def _stood_in(labels: Sequence[str]) -> str:
    """``kind: host, host`` per kind of stand-in, from ``standins.Needs.labels`` lines."""
    hosts: dict[str, set[str]] = {}
    for label in labels:
        kind, _, what = label.partition(" ")
        name = what.split("/")[0] if kind == "image" else what.split("/")[2]
        hosts.setdefault(kind, set()).add(name)
    return "<br>".join(f"{k}: {', '.join(sorted(h))}" for k, h in sorted(hosts.items())) or "–"


def _standin_grouping(label: str) -> str:
    """A stand-in with its release numbers and apt snapshot generalised."""
    return re.sub(r"/[0-9]{8}T[0-9]{6}Z/", "/SNAPSHOT/", _grouping(label))


def table(cells: Sequence[Cell]) -> str:
    """The markdown table, then the reasons grouped: unreachable from here, not mirrored;
    then the stand-ins used."""
    rows = [
        "| release | target | backends | result | stand-ins | unreachable from here"
        " | not in the mirrors | other unresolved / error |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for cell in cells:
        other = [e for e in cell.entries if cell.group(e) == "other"]
        detail = short(cell.error) if cell.error else ""
        detail = detail or "<br>".join(
            f"{e.kind} {short(e.what, 60)}: {short(e.why)}" for e in other
        )
        rows.append(
            "| {} | {} | {} | {} | {} | {} | {} | {} |".format(
                cell.release,
                cell.target,
                "python, vllm" if cell.vllm else "python",
                cell.status,
                _stood_in(cell.standins),
                _where([e for e in cell.entries if cell.group(e) == "unreachable"]),
                _where([e for e in cell.entries if cell.group(e) == "mirror"]),
                detail or "–",
            )
        )
    for group, title in (
        ("unreachable", "Unreachable from here (stand-in needed)"),
        ("mirror", "Not in the served mirrors (oracle gap)"),
    ):
        reasons: dict[str, set[str]] = {}
        for cell in cells:
            for e in cell.entries:
                if cell.group(e) == group:
                    key = f"{e.kind}: {short(_grouping(e.why), 200)}"
                    reasons.setdefault(key, set()).add(cell.release)
        rows += ["", f"### {title}", ""]
        rows += [f"- {why} ({_span(rel)})" for why, rel in sorted(reasons.items())]
        rows += [] if reasons else ["- none"]
    used: dict[str, set[str]] = {}
    for cell in cells:
        for label in cell.standins:
            used.setdefault(_standin_grouping(label), set()).add(cell.release)
    if used:
        rows += ["", "### Stood in (these pins' digests, hashes and versions are the stand-ins')"]
        rows += ["", *(f"- {what} ({_span(rel)})" for what, rel in sorted(used.items()))]
    return "\n".join(rows) + "\n"


BEGIN = "<!-- upstream_matrix: begin (generated by tools/upstream_matrix.py; do not edit) -->"
END = "<!-- upstream_matrix: end -->"


def splice(document: str, text: str) -> str:
    """``document`` with what is between its BEGIN and END lines replaced by ``text``."""
    head, begin, rest = document.partition(BEGIN + "\n")
    _, end, tail = rest.partition(END + "\n")
    if not begin or not end:
        raise SystemExit(f"upstream_matrix: the document has no {BEGIN} … {END} lines")
    return f"{head}{BEGIN}\n{text}{END}\n{tail}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--git-mirror", action="append", default=[], metavar="PREFIX=MIRROR")
    parser.add_argument("--registry-mirror", action="append", default=[], metavar="R=MIRROR")
    parser.add_argument("--url-mirror", action="append", default=[], metavar="PREFIX=MIRROR")
    parser.add_argument("--index-url", metavar="URL")
    parser.add_argument("--apt-archive", metavar="URL")
    parser.add_argument("--insecure-registry", action="append", default=[], metavar="HOST:PORT")
    parser.add_argument("--allow-http", action="store_true")
    parser.add_argument("--release", action="append", default=[], help="default: every branch")
    parser.add_argument("--target", action="append", default=[], choices=TARGETS)
    parser.add_argument("--vllm", action="store_true", help="also x86_64 with --backend vllm")
    parser.add_argument("--parallel", type=int, default=1, choices=(1, 2))
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per resolve")
    parser.add_argument("--out-dir", type=Path, default=Path("/tmp/upstream-matrix"))
    parser.add_argument("-o", "--output", type=Path, help="write the table here too")
    parser.add_argument(
        "--update", type=Path, metavar="MD", help="replace the table between the markers in MD"
    )
    parser.add_argument(
        "--tabulate", action="store_true", help="resolve nothing: tabulate --out-dir's locks"
    )
    parser.add_argument(
        "--standins",
        action="store_true",
        help="resolve a cell again with stand-ins on 127.0.0.1 for what was unreachable",
    )
    args = parser.parse_args(argv)

    passed: list[str] = []
    for flag, values in (
        ("--git-mirror", args.git_mirror),
        ("--registry-mirror", args.registry_mirror),
        ("--url-mirror", args.url_mirror),
        ("--insecure-registry", args.insecure_registry),
    ):
        for value in values:
            passed += [flag, value]
    if args.index_url:
        passed += ["--index-url", args.index_url]
    if args.apt_archive:
        passed += ["--apt-archive", args.apt_archive]
    if args.allow_http:
        passed.append("--allow-http")

    wanted = args.release or releases(args.git_mirror)
    targets = args.target or list(TARGETS)
    jobs = [(r, t, False) for r in wanted for t in targets]
    if args.vllm:
        jobs += [(r, "x86_64", True) for r in wanted]
        jobs.sort(key=lambda job: (job[0], TARGETS.index(job[1]), job[2]))
    args.out_dir.mkdir(parents=True, exist_ok=True)
    with (
        Standins(args.out_dir / "standins")
        if args.standins and not args.tabulate
        else nullcontext() as standins,
        ThreadPoolExecutor(max_workers=args.parallel) as pool,
    ):
        one = reread if args.tabulate else run
        futures = [
            pool.submit(one, r, t, v, args.out_dir, passed, args.timeout, standins)
            for r, t, v in jobs
        ]
        cells = []
        for future in futures:
            cell = future.result()
            label = f"{cell.release} {cell.target}{' +vllm' if cell.vllm else ''}"
            print(f"{label}: {cell.status}", file=sys.stderr, flush=True)
            cells.append(cell)
    text = table(cells)
    if args.output:
        args.output.write_text(text)
    if args.update:
        args.update.write_text(splice(args.update.read_text(), text))
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
