"""Cross-cutting helpers every stage may use: atomic writes, Ctrl-C handling, child
processes, required programs, the one redaction of credentials and the one reading of
an image ref's text."""
