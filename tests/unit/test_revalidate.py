"""The validators a warm resolve asks a download server with: strong ETag, else
Last-Modified; a weak ETag or an unreadable record is never trusted."""

from __future__ import annotations

from pathlib import Path

from tritonlock.sources.revalidate import Seen, Validators

URL = "https://archives.example/boost_1_80_0.tar.gz"
SHA = "ab" * 32


def test_a_strong_etag_is_asked_with_and_wins_over_last_modified(tmp_path: Path) -> None:
    kept = Validators(tmp_path)
    kept.keep(URL, SHA, 7, {"etag": '"v1"', "last-modified": "Mon, 01 Dec 2025 00:00:00 GMT"})
    seen = kept.get(URL)
    assert seen == Seen(SHA, 7, '"v1"', "Mon, 01 Dec 2025 00:00:00 GMT")
    assert seen.conditions() == {"If-None-Match": '"v1"'}


def test_a_weak_etag_falls_back_to_last_modified_or_nothing(tmp_path: Path) -> None:
    kept = Validators(tmp_path)
    kept.keep(URL, SHA, 7, {"etag": 'W/"v1"', "last-modified": "Mon, 01 Dec 2025 00:00:00 GMT"})
    seen = kept.get(URL)
    assert seen is not None
    assert seen.conditions() == {"If-Modified-Since": "Mon, 01 Dec 2025 00:00:00 GMT"}
    kept.keep("https://other.example/f", SHA, 7, {"etag": 'W/"v1"'})
    assert kept.get("https://other.example/f") is None
    assert len(list(tmp_path.iterdir())) == 1


def test_an_unreadable_record_or_no_folder_is_a_miss(tmp_path: Path) -> None:
    kept = Validators(tmp_path)
    kept.keep(URL, SHA, 7, {"etag": '"v1"'})
    (record,) = tmp_path.iterdir()
    for text in ("{", '{"sha256": 1, "size": 7, "etag": "\\"v1\\""}', '{"size": 7}', "[]"):
        record.write_text(text)
        assert kept.get(URL) is None
    none = Validators(None)
    none.keep(URL, SHA, 7, {"etag": '"v1"'})
    assert none.get(URL) is None
