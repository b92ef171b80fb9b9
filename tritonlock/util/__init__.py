"""Cross-cutting helpers every stage may use: atomic writes, Ctrl-C handling, child
processes, required programs and the one redaction of credentials."""
