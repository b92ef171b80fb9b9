"""``python -m tritonlock`` is the same as the ``tritonlock`` command."""

from ._entry import run

run()
