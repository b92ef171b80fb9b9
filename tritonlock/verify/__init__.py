"""``tritonlock verify``: the offline checks of a lock (schema, content hash, rules) and the
deep checks against the live sources (git, indexes, registries, URLs, Debian archives)."""
