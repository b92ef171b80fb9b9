"""A lock's pins in other tools' formats (``tritonlock export``); the emitted build's per-step
requirement files come from here too."""
