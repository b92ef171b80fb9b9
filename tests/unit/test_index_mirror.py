"""`--url-mirror` routes the package indexes too: read at the mirror, recorded as themselves
(so a lock resolved inside a site, through its own index, is the lock made outside)."""

from __future__ import annotations

from pathlib import Path

import httpx

from tritonlock.model import Index
from tritonlock.resolve.wheelpins import _Indexes
from tritonlock.resolve.wheels import IndexSpec, mirrored

PYPI = IndexSpec(name="pypi", url="https://pypi.org/simple")
JETSON = IndexSpec(name="jetson", url="https://pypi.jetson-ai-lab.dev/jp6/cu126", extra=True)


def test_an_index_under_a_url_mirror_is_read_there_and_recorded_as_itself(tmp_path: Path) -> None:
    mirrors = [
        ("https://pypi.org/", "http://www.site.example/"),
        ("https://pypi.org/simple", "http://pypi.site.example:8080/simple"),
        ("https://pypi.org/simplex", "http://wrong.example/"),
    ]
    pypi, jetson = mirrored([PYPI, JETSON], mirrors)
    assert pypi.url == "http://pypi.site.example:8080/simple"  # the longest prefix
    assert pypi.recorded == PYPI.url and (pypi.name, pypi.extra) == ("pypi", False)
    assert jetson == JETSON  # no mirror: as given
    with httpx.Client() as http:
        world = _Indexes([pypi, jetson], cache_dir=tmp_path, http=http, jobs=1)
        assert [c.url for c in world.clients] == [JETSON.url + "/", pypi.url + "/"]
        assert [world.record(s) for s in (pypi, jetson)] == [
            Index(name="pypi", url=PYPI.url),
            Index(name="jetson", url=JETSON.url),
        ]


def test_credentials_of_a_mirrored_index_never_reach_the_lock(tmp_path: Path) -> None:
    secret = IndexSpec(name="pypi", url="https://ci:token@pypi.example/simple")
    (spec,) = mirrored([secret], [("https://ci:token@pypi.example/", "http://site.example/")])
    assert spec.url == "http://site.example/simple"
    with httpx.Client() as http:
        world = _Indexes([spec], cache_dir=tmp_path, http=http, jobs=1)
        assert world.record(spec) == Index(name="pypi", url=None)
