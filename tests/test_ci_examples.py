"""examples/ci/: GitHub Actions workflows for a repository that commits triton.lock, checked
by actionlint (its WebAssembly build, run by Node.js), against the GitHub workflow schema
(check-jsonschema's vendored copy, offline), and every
`tritonlock` command in their `run:` scripts parsed by tritonlock's own parser, so an option
that is renamed or removed breaks this test rather than a user's scheduled job."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fixtures.actionlint import Actionlint, actionlint_fixture  # noqa: F401
from tritonlock.cli import build_parser

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "ci"
WORKFLOWS = sorted(EXAMPLES.glob("*.yml"))


def check_schema(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows"]
        + [str(p) for p in paths],
        capture_output=True,
        text=True,
        timeout=120,
    )


def steps(path: Path) -> list[dict[str, Any]]:
    doc = yaml.safe_load(path.read_text())
    return [step for job in doc["jobs"].values() for step in job["steps"]]


def commands(path: Path) -> list[list[str]]:
    """Each `tritonlock …` command of the workflow's run scripts, as words (continuation
    lines joined, redirections and what follows `||` dropped)."""
    out = []
    for step in steps(path):
        script = step.get("run", "").replace("\\\n", " ")
        for line in script.splitlines():
            line = re.split(r"\s(?:\|\||>|2>)\s?", line.strip())[0]
            if line.startswith("tritonlock "):
                out.append(shlex.split(line)[1:])
    return out


def test_there_are_the_two_workflows() -> None:
    assert [p.name for p in WORKFLOWS] == ["update-lock.yml", "verify-lock.yml"]


def test_the_workflows_match_githubs_schema() -> None:
    done = check_schema(*WORKFLOWS)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_finds_nothing_in_the_workflows(actionlint: Actionlint) -> None:
    done = actionlint(*WORKFLOWS)
    assert (done.returncode, done.stdout) == (0, ""), done.stdout + done.stderr


def test_actionlint_finds_a_planted_mistake(actionlint: Actionlint, tmp_path: Path) -> None:
    """An expression naming a context property that does not exist: the schema allows it,
    actionlint does not."""
    broken = tmp_path / "broken.yml"
    text = WORKFLOWS[0].read_text()
    assert "${{ runner.temp }}" in text
    broken.write_text(text.replace("${{ runner.temp }}", "${{ runner.tmp }}", 1))
    done = actionlint(broken)
    assert done.returncode == 1 and 'property "tmp" is not defined' in done.stdout, done.stdout


def test_the_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOWS[0].read_text().replace("runs-on:", "runs_on:"))
    done = check_schema(broken)
    assert done.returncode == 1 and "runs-on" in done.stdout


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_tritonlock_command_parses(path: Path) -> None:
    found = commands(path)
    assert found, "no tritonlock command found"
    for words in found:
        args = build_parser(words).parse_args(words)
        assert args.command == words[0]


def test_the_update_workflow_opens_a_pull_request_with_the_markdown_diff() -> None:
    doc = yaml.safe_load((EXAMPLES / "update-lock.yml").read_text())
    assert "schedule" in doc[True]  # YAML 1.1 reads the key `on` as true
    words = [w for w in commands(EXAMPLES / "update-lock.yml") if w[0] == "diff"]
    assert words and {"--format", "markdown", "--exit-code"} <= set(words[0])
    (pr,) = [
        s for s in steps(EXAMPLES / "update-lock.yml") if "create-pull-request" in s.get("uses", "")
    ]
    assert pr["with"]["body-path"] == "${{ runner.temp }}/diff.md"


def test_the_verify_workflow_goes_deep_only_on_schedule() -> None:
    doc = yaml.safe_load((EXAMPLES / "verify-lock.yml").read_text())
    assert {"push", "pull_request", "schedule"} <= set(doc[True])
    (deep,) = [s for s in steps(EXAMPLES / "verify-lock.yml") if "--deep" in s.get("run", "")]
    assert "schedule" in deep["if"]
