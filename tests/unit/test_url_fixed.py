"""Fixed-output downloads in the lock: upstream's SHA256, no size (issue 12, defect 3)."""

from __future__ import annotations

import pytest

from tritonlock.lockfile import seal, validate_data
from tritonlock.model import Inputs, Lock, Sha256, UrlPin
from tritonlock.verify.deep import check_download

SHA = Sha256("sha256:" + "ab" * 32)
URL = "https://archives.example/boost_1_79_0.tar.gz"


def lock_data(*pins: UrlPin) -> dict[str, object]:
    return seal(Lock(inputs=Inputs(release="25.04", target="cpu"), url=pins)).to_dict()


def test_fixed_output_pin_round_trips_and_validates() -> None:
    pin = UrlPin(
        url=URL, sha256=SHA, found_in=("python_backend:CMakeLists.txt:125",), fixed_output=True
    )
    data = lock_data(pin)
    validate_data(data)
    assert data["url"] == [
        {
            "url": URL,
            "sha256": SHA,
            "fixed-output": True,
            "found-in": ["python_backend:CMakeLists.txt:125"],
        }
    ]
    assert UrlPin.from_dict(data["url"][0]) == pin


def test_old_locks_with_a_size_stay_valid_and_a_pin_needs_size_or_fixed_output() -> None:
    validate_data(lock_data(UrlPin(url=URL, sha256=SHA, size=3)))
    bad = lock_data(UrlPin(url=URL, sha256=SHA))
    with pytest.raises(Exception, match="url"):
        validate_data(bad)


class Served:
    def __init__(self, sha: str, size: int) -> None:
        self.answer = (sha, size)

    def download(self, url: str) -> tuple[str, int]:
        return self.answer


def test_verify_deep_checks_a_fixed_output_pins_bytes_against_the_hash() -> None:
    pin = UrlPin(url=URL, sha256=SHA, fixed_output=True)
    assert check_download("url[0]", pin, Served(SHA, 130_000_000)).problems == ()  # type: ignore[arg-type]
    (problem,) = check_download("url[0]", pin, Served("sha256:" + "cd" * 32, 5)).problems  # type: ignore[arg-type]
    assert problem.startswith("url[0].sha256: ") and "as upstream declares" in problem
