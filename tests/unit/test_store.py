"""The content-addressed store: entries by sha256, written whole or not at all, hashed again
on use, pruned by age or all at once."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from tritonlock.util.store import Store, default_root

DATA = b"boost tarball bytes" * 1000
SHA = "sha256:" + hashlib.sha256(DATA).hexdigest()


def _put(store: Store, tmp_path: Path, data: bytes = DATA, kind: str = "url") -> str:
    sha = "sha256:" + hashlib.sha256(data).hexdigest()
    src = tmp_path / f"src-{sha[7:19]}"  # one per content: an entry may be a link to it
    src.write_bytes(data)
    assert store.put_file(kind, sha, src)
    return sha


def test_an_entry_is_named_by_its_hash_and_copied_out(tmp_path: Path) -> None:
    store = Store(tmp_path / "cache")
    _put(store, tmp_path)
    entry = store.path("url", SHA)
    assert entry == tmp_path / "cache" / "files" / "url" / SHA.removeprefix("sha256:")
    assert entry.read_bytes() == DATA
    dest = tmp_path / "out" / "boost.tar.gz"
    assert store.copy_out("url", SHA, dest) == len(DATA)
    assert dest.read_bytes() == DATA
    assert not list((tmp_path / "out").glob(".*"))  # no temp file left beside it


def test_a_missing_entry_is_none(tmp_path: Path) -> None:
    store = Store(tmp_path / "cache")
    assert store.get("wheel", SHA) is None
    assert store.copy_out("wheel", SHA, tmp_path / "x") is None
    assert not (tmp_path / "x").exists()


def test_a_corrupted_entry_is_detected_removed_and_replaced(tmp_path: Path) -> None:
    store = Store(tmp_path / "cache")
    _put(store, tmp_path)
    entry = store.path("url", SHA)
    entry.write_bytes(DATA[:-1] + b"X")  # one byte changed, as a bad disk would
    assert store.get("url", SHA) is None
    assert not entry.exists()
    assert store.copy_out("url", SHA, tmp_path / "out") is None
    _put(store, tmp_path)  # the next fetch puts it back
    assert store.get("url", SHA) == entry
    assert entry.read_bytes() == DATA


def test_a_copy_whose_bytes_differ_is_not_added(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(src: object, dst: object) -> None:
        raise OSError("cross-device link")

    monkeypatch.setattr(os, "link", no_links)
    store = Store(tmp_path / "cache")
    src = tmp_path / "src"
    src.write_bytes(b"other bytes")
    assert not store.put_file("url", SHA, src)
    assert store.get("url", SHA) is None
    assert _put(store, tmp_path) == SHA  # copied, hashed again, kept
    assert store.copy_out("url", SHA, tmp_path / "out") == len(DATA)
    assert (tmp_path / "out").read_bytes() == DATA


def test_a_writer_commits_whole_entries_only(tmp_path: Path) -> None:
    store = Store(tmp_path / "cache")
    with store.writer("url") as w:
        w.write(DATA[:100])
        w.write(DATA[100:])
        got = w.commit()
    assert got == SHA.removeprefix("sha256:")
    assert store.get("url", SHA) is not None
    with pytest.raises(RuntimeError), store.writer("wheel") as w:
        w.write(b"half a download")
        raise RuntimeError("connection reset")
    assert list(store.entries()) == [("url", store.path("url", SHA))]
    assert list((store.files / "tmp").iterdir()) == []  # the half file went


def test_writers_of_one_entry_at_once_leave_one_whole_entry(tmp_path: Path) -> None:
    store = Store(tmp_path / "cache")
    with store.writer("url") as a, store.writer("url") as b:
        a.write(DATA)
        b.write(DATA)
        assert a.tmp != b.tmp  # each writes its own temp file
        a.commit()
        b.commit()
    assert [p.read_bytes() for _, p in store.entries()] == [DATA]
    assert list((store.files / "tmp").iterdir()) == []


def test_an_unwritable_cache_is_only_no_entry(tmp_path: Path) -> None:
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache folder should be")
    store = Store(blocked)
    src = tmp_path / "src"
    src.write_bytes(DATA)
    assert not store.put_file("url", SHA, src)
    with store.writer("url") as w:
        w.write(DATA)
        assert w.commit() == SHA.removeprefix("sha256:")
    assert store.get("url", SHA) is None


def test_info_counts_entries_and_bytes_by_kind(tmp_path: Path) -> None:
    store = Store(tmp_path / "cache")
    _put(store, tmp_path)
    _put(store, tmp_path, b"a wheel", kind="wheel")
    (tmp_path / "cache" / "git").mkdir()
    (tmp_path / "cache" / "git" / "x").write_bytes(b"12345")
    info = {k.kind: (k.entries, k.size) for k in store.info()}
    assert info["url"] == (1, len(DATA))
    assert info["wheel"] == (1, 7)
    assert info["image"] == (0, 0)
    assert info["git"] == (1, 5)


def test_prune_older_than_keeps_what_was_used(tmp_path: Path) -> None:
    store = Store(tmp_path / "cache")
    old = _put(store, tmp_path, b"old")
    _put(store, tmp_path)
    month_ago = time.time() - 30 * 86400
    os.utime(store.path("url", old), (month_ago, month_ago))
    os.utime(store.path("url", SHA), (month_ago, month_ago))
    assert store.get("url", SHA) is not None  # used now: young again
    pruned = store.prune(older_than=7 * 86400)
    assert (pruned.entries, pruned.size) == (1, 3)
    assert [p.name for _, p in store.entries()] == [SHA.removeprefix("sha256:")]


def test_prune_all_empties_the_store_and_resolves_caches(tmp_path: Path) -> None:
    store = Store(tmp_path / "cache")
    _put(store, tmp_path)
    (tmp_path / "cache" / "urls").mkdir()
    (tmp_path / "cache" / "urls" / "v.json").write_text("{}")
    (tmp_path / "cache" / "mine.txt").write_text("not tritonlock's")
    pruned = store.prune(everything=True)
    assert pruned.entries == 2
    assert list(store.entries()) == []
    assert not (tmp_path / "cache" / "urls").exists()
    assert (tmp_path / "cache" / "mine.txt").exists()  # only what tritonlock made goes


def test_prune_removes_a_crashed_writers_temp_files(tmp_path: Path) -> None:
    store = Store(tmp_path / "cache")
    (store.files / "tmp").mkdir(parents=True)
    stale, fresh = store.files / "tmp" / "entry.a.tmp", store.files / "tmp" / "entry.b.tmp"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"being written")
    two_days_ago = time.time() - 2 * 86400
    os.utime(stale, (two_days_ago, two_days_ago))
    store.prune(older_than=365 * 86400)
    assert not stale.exists()
    assert fresh.exists()  # another process may be writing it now


def test_the_default_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TRITONLOCK_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_root() == tmp_path / "xdg" / "tritonlock"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert default_root() == Path.home() / ".cache" / "tritonlock"
    monkeypatch.setenv("TRITONLOCK_CACHE_DIR", str(tmp_path / "mine"))
    assert default_root() == tmp_path / "mine"


def test_a_hash_that_is_not_sha256_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a sha256"):
        Store(tmp_path).path("url", "sha256:../../etc/passwd")
    with pytest.raises(ValueError, match="unknown kind"):
        Store(tmp_path).path("git", SHA)


def test_a_written_store_is_tagged_as_a_cache(tmp_path: Path) -> None:
    store = Store(tmp_path / "cache")
    assert not store.is_cache()
    _put(store, tmp_path)
    tag = (tmp_path / "cache" / "CACHEDIR.TAG").read_text()
    assert tag.startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert store.is_cache()


def test_copy_out_hashes_what_it_places_and_drops_a_corrupted_entry(tmp_path: Path) -> None:
    store = Store(tmp_path / "cache")
    _put(store, tmp_path)
    store.path("url", SHA).write_bytes(b"truncated")
    dest = tmp_path / "bundle" / "boost.tar.gz"
    assert store.copy_out("url", SHA, dest) is None
    assert not dest.exists()
    assert not store.path("url", SHA).exists()
    assert list((tmp_path / "bundle").iterdir()) == []  # no temp file left either
