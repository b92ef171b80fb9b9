"""The wheels' ``--exclude-newer`` cutoff: parsing it, choosing index files by upload time
as uv does, recording it in the lock, and what `update` keeps."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests import strategies as S
from tritonlock import lockfile
from tritonlock.diff import diff_locks, render_text
from tritonlock.errors import ResolveError, UsageError
from tritonlock.lockfile import schema
from tritonlock.model import Digest, ImagePin, Index, Inputs, Lock, Sha256, WheelFile, WheelPin
from tritonlock.resolve.cutoff import (
    NOW,
    cutoff_at,
    dated,
    parse_cutoff,
    uploaded_before,
    wheel_cutoff,
)
from tritonlock.resolve.merge import merge_only
from tritonlock.resolve.update import cutoff_of
from tritonlock.sources.pyindex import IndexFile, parse_json

VALID = Path(__file__).parent.parent / "data" / "valid" / "complete.lock"
CUT = "2025-02-01T00:00:00Z"


@pytest.mark.parametrize(
    ("given_", "recorded"),
    [
        ("now", "now"),
        ("2025-02-20", "2025-02-21T00:00:00Z"),  # the whole day, as uv takes a date
        ("2024-12-31", "2025-01-01T00:00:00Z"),
        ("2024-02-28", "2024-02-29T00:00:00Z"),
        ("2025-02-20T18:02:11Z", "2025-02-20T18:02:11Z"),
        ("2025-02-20t18:02:11z", "2025-02-20T18:02:11Z"),
        ("2025-02-20 18:02:11.987654Z", "2025-02-20T18:02:11Z"),
        ("2025-02-20T20:02:11+02:00", "2025-02-20T18:02:11Z"),
        ("2025-02-20T00:30:00-01:00", "2025-02-20T01:30:00Z"),
    ],
)
def test_parse_cutoff_records_utc_to_the_second(given_: str, recorded: str) -> None:
    assert parse_cutoff(given_) == recorded
    assert re.fullmatch(S.field_schema("inputs.exclude-newer")["pattern"], recorded)
    assert parse_cutoff(recorded) == recorded  # what the lock records reads back the same


@pytest.mark.parametrize(
    "bad",
    [
        "yesterday",
        "NOW",
        "",
        "2025-02-30",
        "2025-2-20",
        "20250220",
        "2025-02-20T18:02:11",  # no zone: whose 18:02?
        "2025-02-20T25:00:00Z",
        "2025-02-20T18:02:11+24:00",
        "2025-02-20T18:02Z",
        "9999-12-31",
        "2025-02-20T18:02:11Z\n",
        "1 week",
    ],
)
def test_bad_cutoff_is_one_usage_line_naming_the_option(bad: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_cutoff(bad)
    text = str(info.value)
    assert text.startswith(f"--exclude-newer {bad!r}: expected") and "YYYY-MM-DD" in text
    assert "\n" not in text.replace(repr(bad), "")


def test_default_is_the_server_commit_time() -> None:
    assert cutoff_at(1_700_000_060) == "2023-11-14T22:14:20Z"
    assert wheel_cutoff(None, 1_700_000_060) == "2023-11-14T22:14:20Z"
    assert wheel_cutoff(NOW, 1_700_000_060) == NOW
    assert wheel_cutoff(CUT, None) == CUT
    with pytest.raises(ResolveError, match="pass --exclude-newer"):
        wheel_cutoff(None, None)


def f(name: str, uploaded: str | None) -> IndexFile:
    return IndexFile(filename=name, url=f"https://x/{name}", upload_time=uploaded)


def test_files_uploaded_at_or_after_the_cutoff_or_undated_are_left_out() -> None:
    files = [
        f("early.whl", "2025-01-31T23:59:59.999999Z"),
        f("at.whl", "2025-02-01T00:00:00Z"),  # uv: only what was uploaded *before*
        f("late.whl", "2025-02-01T00:00:00.000001Z"),
        f("offset.whl", "2025-02-01T00:30:00+01:00"),  # 23:30 UTC the day before
        f("undated.whl", None),  # uv leaves out a file without an upload time
        f("garbage.whl", "last tuesday"),
        f("naive.whl", "2025-01-01T00:00:00"),
    ]
    kept = [x.filename for x in uploaded_before(files, CUT)]
    assert kept == ["early.whl", "offset.whl"]


@given(
    st.datetimes(datetime(1990, 1, 1), datetime(2100, 1, 1)),
    st.datetimes(datetime(1990, 1, 1), datetime(2100, 1, 1)),
)
def test_the_filter_is_upload_time_before_the_cutoff(upload: datetime, cut: datetime) -> None:
    cut = cut.replace(microsecond=0, tzinfo=UTC)
    stamp = upload.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")
    cutoff = parse_cutoff(cut.isoformat().replace("+00:00", "Z"))
    kept = uploaded_before([f("x.whl", stamp)], cutoff)
    assert bool(kept) == (upload.replace(tzinfo=UTC) < cut)


def test_dated_listing_and_an_index_that_dates_nothing() -> None:
    files = [f("a-1.0-py3-none-any.whl", "2025-01-01T00:00:00Z"), f("a-2.0.tar.gz", None)]
    assert dated(files, None, "index") == files
    assert dated(None, CUT, "index") is None  # the index does not know the project
    assert dated([], CUT, "index") == []
    assert dated(files, CUT, "index") == files[:1]
    with pytest.raises(ResolveError) as info:
        dated([f("a-1.0-py3-none-any.whl", None)], CUT, "index 'jetson' (https://j/), project 'a',")
    text = str(info.value)
    assert text.startswith("index 'jetson' (https://j/), project 'a', lists no upload times")
    assert CUT in text and "pass --exclude-newer now" in text


def test_pep691_upload_time_is_read() -> None:
    page = {
        "meta": {"api-version": "1.1"},
        "files": [
            {"filename": "a-1.0-py3-none-any.whl", "url": "a.whl", "upload-time": CUT},
            {"filename": "a-1.1-py3-none-any.whl", "url": "b.whl", "upload-time": 1738368000},
            {"filename": "a-1.2-py3-none-any.whl", "url": "c.whl"},
        ],
    }
    files = parse_json("https://idx.example/simple/a/", page)
    assert files is not None
    assert [x.upload_time for x in files] == [CUT, None, None]


def lock(cutoff: str | None, version: str = "1.0") -> Lock:
    wf = WheelFile(
        name=f"x-{version}-py3-none-any.whl", sha256=Sha256("sha256:" + "a" * 64), size=1
    )
    wheel = WheelPin(step="user", image="base", name="x", version=version, index="pypi",
                     files=(wf,))  # fmt: skip
    return Lock(
        inputs=Inputs(release="25.02", target="x86_64", exclude_newer=cutoff),
        wheel=(wheel,),
        index=(Index(name="pypi", url="https://pypi.org/simple"),),
    )


def test_the_lock_records_it_in_inputs_and_the_hash_covers_it() -> None:
    with_cut = lockfile.seal(lock("2025-02-21T00:00:00Z"))
    text = lockfile.dumps(with_cut)
    assert 'exclude-newer = "2025-02-21T00:00:00Z"' in text.split("[release]")[0]
    back = lockfile.loads(text)
    assert back == with_cut and back.inputs.exclude_newer == "2025-02-21T00:00:00Z"
    hashes = {lockfile.seal(lock(c)).content_hash for c in (None, "now", "2025-02-21T00:00:00Z")}
    assert len(hashes) == 3


def test_schema_takes_a_utc_time_or_now_and_an_old_lock_without_it() -> None:
    data = lockfile.seal(lock(None)).to_dict()
    assert "exclude-newer" not in data["inputs"] and schema.problems(data) == []
    for good in ("now", "2025-02-21T00:00:00Z"):
        data["inputs"]["exclude-newer"] = good
        assert [p for p in schema.problems(data) if "exclude-newer" in p] == []
    for bad in ("2025-02-21", "2025-02-21T00:00:00+00:00", "today", "now\n"):
        data["inputs"]["exclude-newer"] = bad
        (problem,) = [p for p in schema.problems(data) if p.startswith("inputs.exclude-newer")]
        assert problem.startswith(
            "inputs.exclude-newer: not a UTC time like 2025-02-20T18:02:11Z, or now"
        ), bad
    old = lockfile.load(VALID)  # made before the cutoff was recorded
    assert old.inputs.exclude_newer is None


def test_diff_shows_a_changed_cutoff() -> None:
    old, new = lockfile.seal(lock("2025-02-21T00:00:00Z")), lockfile.seal(lock("now"))
    (change,) = diff_locks(old, new).changes
    assert (change.kind, change.key, change.op) == ("inputs", "exclude-newer", "changed")
    text = render_text(diff_locks(old, new), "a", "b")
    assert "~ exclude-newer: 2025-02-21T00:00:00Z → now" in text
    (added,) = diff_locks(lockfile.seal(lock(None)), new).changes
    assert (added.key, added.op) == ("exclude-newer", "added")


def test_update_keeps_the_locks_cutoff_unless_one_is_given() -> None:
    only = [("wheel", "x")]
    recorded = lock("2025-02-21T00:00:00Z")
    assert cutoff_of(recorded, None, []) == "2025-02-21T00:00:00Z"
    assert cutoff_of(recorded, None, only) == "2025-02-21T00:00:00Z"
    assert cutoff_of(lock("now"), None, []) == "now"  # "now" is kept too
    assert cutoff_of(recorded, "now", []) == "now"
    assert cutoff_of(lock("now"), CUT, only) == CUT
    # An older lock read the indexes as they were: a full update dates them by the server
    # commit (None: resolve's default), --only keeps them undated, as its held wheels are.
    assert cutoff_of(lock(None), None, []) is None
    assert cutoff_of(lock(None), None, only) == "now"


def test_update_only_wheel_records_the_cutoff_its_wheels_were_read_at() -> None:
    image = ImagePin(role="base", ref="nvcr.io/nvidia/x:1", digest=Digest("sha256:" + "b" * 64),
                     platform="linux/amd64")  # fmt: skip
    old = replace(lock("2025-02-21T00:00:00Z"), image=(image,))
    new = replace(
        lock("now", version="2.0"), image=(replace(image, digest=Digest("sha256:" + "c" * 64)),)
    )
    merged = merge_only(old, new, [("wheel", "x")])
    assert merged.inputs.exclude_newer == "now" and merged.wheel == new.wheel
    assert merge_only(old, new, [("image", "base")]).inputs == old.inputs  # no wheel read


def test_timezone_free_dates_are_whole_utc_days() -> None:
    day = parse_cutoff("2025-03-01")
    end = datetime(2025, 3, 1, 23, 59, 59, tzinfo=UTC)
    assert uploaded_before([f("x.whl", end.isoformat())], day)
    assert not uploaded_before([f("x.whl", (end + timedelta(seconds=1)).isoformat())], day)
