"""One exception hierarchy; :func:`exit_code` is the only place mapping it to exit codes.

Exit codes: 0 ok, 1 negative result, 2 bad input or usage, 130 interrupted.
Every message is one line that names the file and field and says what to do.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_NEGATIVE = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class TritonLockError(Exception):
    """Base class. ``str(err)`` is a single line meant for a user."""

    exit_code: int = EXIT_BAD_INPUT

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split("\n")))


class UsageError(TritonLockError):
    """Bad command-line usage or options; ``prog`` names the command that refused them."""

    def __init__(self, message: str, *, prog: str = "tritonlock") -> None:
        super().__init__(message)
        self.prog = prog


class LockReadError(TritonLockError):
    """A lock that cannot be read at all (missing, not TOML, binary, newer version)."""


class NegativeResult(TritonLockError):
    """The command worked and the answer is 'no' (verify failed, locks differ, …)."""

    exit_code = EXIT_NEGATIVE


class MissingPin(NegativeResult):
    """The lock has no pin for something a command needs (re-resolve it): exit 1."""


class LockInvalid(NegativeResult):
    """A readable lock with problems; carries every problem found."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        first = problems[0] if problems else "invalid"
        more = (
            f" (and {len(problems) - 1} more; `tritonlock verify {path}` lists them all)"
            if len(problems) > 1
            else ""
        )
        super().__init__(f"{path}: {first}{more}")


class ResolveError(TritonLockError):
    """A source could not be resolved (unreachable, missing ref, bad data, …): exit 1.

    Input that is wrong in itself (an option-injection URL, a malformed ref) is a
    UsageError (exit 2) instead.
    """

    exit_code = EXIT_NEGATIVE


class SourceError(ResolveError):
    """A source answered with something we must not accept."""


def exit_code(err: BaseException) -> int:
    """Map any exception to the process exit code."""
    if isinstance(err, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(err, TritonLockError):
        return err.exit_code
    return EXIT_BAD_INPUT


class Unreachable(ResolveError):
    """A source kept failing in ways that may pass (timeouts, 5xx) until retries ran out."""
