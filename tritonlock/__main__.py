"""``python -m tritonlock`` is the same as the ``tritonlock`` command."""

from .cli import main

raise SystemExit(main())
