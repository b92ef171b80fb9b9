"""Run a pinned server tree's ``build.py --dryrun`` and read the recipe it writes.

build.py runs as a subprocess in a temporary copy of the tree (top-level files
copied, directories symlinked, so its ``build/`` output never lands in the tree),
with an allow-listed environment, a timeout, ``python -I -S`` and stub ``distro`` /
``requests`` modules: any network use (``requests`` or a socket) is an error.
Generated files are read back with the temporary path replaced by ``@SERVER_DIR@``
so the same tree and options always give the same recipe, byte for byte.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ..errors import ResolveError
from ..model import Inputs, Recipe, RecipeFile, Sha256
from ..util import procs
from .floating import FloatingInputs, floating_inputs
from .imageroles import image_roles
from .options import buildpy_options

# The files of build.py's generated recipe that the emitter translates.
RECIPE_FILES = ("Dockerfile.buildbase", "cmake_build", "Dockerfile")
SERVER_DIR = "@SERVER_DIR@"
NETWORK_MARK = "tritonlock: build.py tried to use the network"

_STUBS = {
    "distro.py": (
        '"""tritonlock stub: the recipe is generated for Ubuntu, not for this host."""\n'
        "def id():\n    return 'ubuntu'\n\n"
        "def like():\n    return 'debian'\n\n"
        "def name(pretty=False):\n    return 'Ubuntu'\n\n"
        "def version(pretty=False, best=False):\n    return '24.04'\n"
    ),
    "requests.py": (
        '"""tritonlock stub: any use of requests while generating the recipe is an error."""\n'
        "class NetworkBlocked(RuntimeError):\n    pass\n\n"
        "def _blocked(method, url='', *args, **kwargs):\n"
        f"    raise NetworkBlocked('{NETWORK_MARK}: ' + method + ' ' + str(url))\n\n"
        "def get(url, *a, **k):\n    _blocked('GET', url)\n\n"
        "def post(url, *a, **k):\n    _blocked('POST', url)\n\n"
        "def head(url, *a, **k):\n    _blocked('HEAD', url)\n\n"
        "def request(method, url, *a, **k):\n    _blocked(method, url)\n"
    ),
    "_tritonlock_run.py": (
        '"""tritonlock: run build.py with stub modules first on the path and no sockets."""\n'
        "import os, runpy, socket, sys\n"
        "sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))\n"
        "def _blocked(*args, **kwargs):\n"
        f"    raise OSError('{NETWORK_MARK}: socket')\n"
        "socket.socket.connect = _blocked\n"
        "socket.create_connection = _blocked\n"
        "socket.getaddrinfo = _blocked\n"
        "sys.argv = sys.argv[1:]\n"
        "runpy.run_path(sys.argv[0], run_name='__main__')\n"
    ),
}


def capture_recipe(
    server_tree: Path,
    inputs: Inputs,
    *,
    timeout: float = 120,
    commit: str | None = None,
    images_of: str | None = None,
) -> tuple[Recipe, FloatingInputs, dict[str, str]]:
    """The recipe of ``inputs`` at ``server_tree``: options and file digests, the floating
    inputs, and the generated files' text (name -> text, temp path normalised).
    ``images_of`` is the container version NGC image tags derive from (the release's
    ``upstream-container-version``; default: the release)."""
    options = buildpy_options(inputs, images_of)
    files = generate(server_tree, options, timeout=timeout, commit=commit)
    build_py = (server_tree / "build.py").read_text("utf-8", errors="replace")
    recipe, floating = assemble(build_py, options, files)
    return recipe, floating, files


def generate(
    server_tree: Path, options: list[str], *, timeout: float = 120, commit: str | None = None
) -> dict[str, str]:
    """The files ``build.py --dryrun OPTIONS`` writes at ``server_tree`` (name -> text, the
    temporary path normalised): the same tree and options give the same files."""
    what = _describe(server_tree, commit, options)
    if not (server_tree / "build.py").is_file():
        raise ResolveError(f"{what}: build.py not found; is this the server repository?")
    with tempfile.TemporaryDirectory(prefix="tritonlock-recipe-") as tmp:
        work = Path(tmp)
        server = _stage_tree(server_tree, work / "server")
        stubs = _write_stubs(work / "stubs")
        _run(stubs, server, options, work, timeout, what)
        files = _read_generated(server / "build", str(server))
    if not files:
        raise ResolveError(f"{what}: build.py --dryrun wrote no files")
    return files


def assemble(
    build_py: str, options: list[str], files: dict[str, str]
) -> tuple[Recipe, FloatingInputs]:
    """The recipe (options and file digests) and floating inputs of the ``files`` that
    ``build_py`` (its text) generated with ``options``."""
    recipe = Recipe(
        options=tuple(options),
        files=tuple(RecipeFile(name=n, sha256=digest(t)) for n, t in sorted(files.items())),
    )
    return recipe, floating_inputs(files, roles=image_roles(build_py))


def _describe(server_tree: Path, commit: str | None, options: list[str]) -> str:
    at = commit or str(server_tree)
    return f"build.py at {at} ({' '.join(options)})"


def _stage_tree(source: Path, dest: Path) -> Path:
    dest.mkdir()
    for entry in sorted(source.iterdir()):
        if entry.name in ("build", ".git"):
            continue
        if entry.is_file() and not entry.is_symlink():
            shutil.copy2(entry, dest / entry.name)
        else:
            (dest / entry.name).symlink_to(entry.resolve())
    return dest


def _write_stubs(dest: Path) -> Path:
    dest.mkdir()
    for name, text in _STUBS.items():
        (dest / name).write_text(text, encoding="utf-8")
    return dest


def _env(home: Path) -> dict[str, str]:
    """An allow-listed environment: nothing like TRITON_BUILD_*, CCACHE_* or PYTHON* leaks."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LC_ALL": "C.UTF-8",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "TMPDIR": str(home),
    }


def _run(
    stubs: Path, server: Path, options: list[str], work: Path, timeout: float, what: str
) -> None:
    argv = [sys.executable, "-I", "-S", str(stubs / "_tritonlock_run.py"), str(server / "build.py")]
    argv += ["--dryrun", *options]
    try:
        proc = procs.run(argv, cwd=work, env=_env(work), timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ResolveError(f"{what}: --dryrun did not finish in {timeout:g}s") from None
    except OSError as err:
        raise ResolveError(f"{what}: cannot run {sys.executable}: {err.strerror}") from None
    stderr = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
        reason = lines[-1] if lines else f"exit status {proc.returncode}"
        if NETWORK_MARK in stderr:
            reason = f"network access refused ({reason})"
        raise ResolveError(f"{what}: --dryrun failed: {reason.replace(str(work), '')}")


def _read_generated(build_dir: Path, server_dir: str) -> dict[str, str]:
    files: dict[str, str] = {}
    if not build_dir.is_dir():
        return files
    for path in sorted(build_dir.rglob("*")):
        if path.is_file() and not path.is_symlink():
            name = path.relative_to(build_dir).as_posix()
            text = path.read_text(encoding="utf-8", errors="replace")
            files[name] = text.replace(server_dir, SERVER_DIR)
    return files


def digest(text: str) -> Sha256:
    """The ``sha256:`` digest of a recipe file's text, as ``recipe.files`` records it."""
    return Sha256("sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest())
