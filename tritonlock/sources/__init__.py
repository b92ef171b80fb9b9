"""Clients of the places sources come from, one module per protocol: git, PyPI-style indexes,
OCI registries (and their credentials), plain URLs and Debian archives."""
