"""Only a credential-free index URL is recorded, shown or emitted; any other index is
recorded by name and reaches the build through the pip-conf secret."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tritonlock.emit.dockerfile import index_env
from tritonlock.model import Index, Inputs, Lock, Sha256, WheelFile, WheelPin
from tritonlock.resolve.uvcompile import condense
from tritonlock.resolve.wheelpins import _Indexes
from tritonlock.resolve.wheels import IndexSpec
from tritonlock.sources.pyindex import IndexClient

TOKEN = "AbC123dEf456GhI789"


@pytest.mark.parametrize(
    ("url", "recorded"),
    [
        ("https://pypi.org/simple/", True),
        ("https://pypi.jetson-ai-lab.dev/jp6/cu126", True),
        ("http://127.0.0.1:8080/simple", True),
        (f"https://idx.example/simple/?token={TOKEN}", False),
        (f"https://idx.example/simple/?private_token={TOKEN}", False),
        (f"https://dl.example/{TOKEN}/org/repo/python/simple/", False),
        (f"https://idx.example/{TOKEN}/simple", False),
        (f"https://user:{TOKEN}@idx.example/simple/", False),
        (f"https://{TOKEN}@idx.example/simple/", False),
        ("https://idx.example/simple/#frag", False),
    ],
)
def test_only_a_credential_free_index_url_is_recorded(
    tmp_path: Path, url: str, recorded: bool
) -> None:
    with httpx.Client() as http:
        world = _Indexes([IndexSpec(name="pypi", url=url)], cache_dir=tmp_path, http=http, jobs=1)
        assert world.record(world.specs[0]) == Index(name="pypi", url=url if recorded else None)
        if not recorded:
            assert TOKEN not in world.where()


def test_where_shows_a_tokened_index_by_host(tmp_path: Path) -> None:
    with httpx.Client() as http:
        c = IndexClient(
            "priv", f"https://u:p@dl.example/{TOKEN}/simple", cache_dir=tmp_path, http=http
        )
        assert c.where() == "index 'priv' (https://dl.example/…)"


def test_uv_errors_lose_the_index_tokens(tmp_path: Path) -> None:
    url = f"https://user:pw%2Fx@dl.example/{TOKEN}/simple/?key=K3Y-value"
    stderr = (
        "error: Failed to fetch: `https://user:****@dl.example/AbC123dEf456GhI789/simple/six/`\n"
        "  Caused by: HTTP status client error (401) for https://dl.example/AbC123dEf456GhI789"
        "/simple/?key=K3Y-value (pw/x)\n"
    )
    with httpx.Client() as http:
        world = _Indexes([IndexSpec(name="p", url=url)], cache_dir=tmp_path, http=http, jobs=1)
        why = condense(stderr, world.uv.urls)
    for secret in (TOKEN, "K3Y-value", "pw/x", "pw%2Fx"):
        assert secret not in why, why
    assert "dl.example" in why and "\n" not in why


def _lock(url: str | None) -> Lock:
    file = WheelFile(name="six-1.0-py3-none-any.whl", sha256=Sha256("sha256:" + "0" * 64), size=9)
    pin = WheelPin(step="final", image="base", name="six", version="1.0", index="p", files=(file,))
    return Lock(
        inputs=Inputs(release="25.04", target="x86_64"),
        wheel=(pin,),
        index=(Index(name="p", url=url),),
    )


def test_emit_writes_only_credential_free_index_urls() -> None:
    clean = index_env(_lock("https://pypi.org/simple/"), "final")
    assert "PIP_INDEX_URL=https://pypi.org/simple/" in clean
    for url in (None, f"https://idx.example/simple/?token={TOKEN}", f"https://h.example/{TOKEN}/s"):
        shell = index_env(_lock(url), "final")
        assert TOKEN not in shell and "PIP_INDEX_URL" not in shell
        assert "needs the pip-conf secret (index p)" in shell
