"""The emitter's error: the lock does not pin something the recipe needs (exit 1)."""

from __future__ import annotations

from ..errors import NegativeResult


class EmitError(NegativeResult):
    """A floating input of the recipe that the lock does not pin, or a recipe we cannot pin."""
