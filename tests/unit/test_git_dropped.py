"""git's failures: a dropped connection is worth asking again, a refusal is not, and the
message is git's whole message, not its last line."""

from __future__ import annotations

import pytest

from tritonlock.sources.gitclient import classify, dropped

DAEMON_FULL = (
    "fatal: Could not read from remote repository.\n\n"
    "Please make sure you have the correct access rights\nand the repository exists.\n"
)


def test_the_whole_message_not_its_last_line() -> None:
    assert classify(DAEMON_FULL) == (
        "Could not read from remote repository. Please make sure you have the correct "
        "access rights and the repository exists."
    )


@pytest.mark.parametrize(
    "stderr",
    [
        "fatal: read error: Connection reset by peer\n",
        "fatal: the remote end hung up unexpectedly\n",
        DAEMON_FULL,
        "fetch-pack: unexpected disconnect while reading sideband packet\nfatal: early EOF\n",
    ],
)
def test_a_dropped_connection_is_asked_again(stderr: str) -> None:
    assert dropped(stderr)


@pytest.mark.parametrize(
    "stderr",
    [
        "fatal: remote error: access denied or repository not exported: /x.git\n",
        "remote: Repository not found.\nfatal: repository 'https://h/x/' not found\n",
        "git@h: Permission denied (publickey).\n" + DAEMON_FULL,
        "fatal: unable to connect to 127.0.0.1:\n"
        "127.0.0.1[0: 127.0.0.1]: errno=Connection refused\n",
        # a server whose repository lacks an object it should send: asking again cannot help
        "remote: fatal: unable to read a533fde78ce50a11f6189907f9e0392095222fe2\n"
        "remote: aborting due to possible repository corruption on the remote side.\n"
        "fatal: early EOF\nfatal: fetch-pack: invalid index-pack output\n",
    ],
)
def test_a_refusal_or_no_server_is_not(stderr: str) -> None:
    assert not dropped(stderr)
