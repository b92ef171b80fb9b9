"""The public sources a full resolve reads by default (each can be mirrored)."""

GITHUB_ORG = "https://github.com/triton-inference-server"
PYPI = "https://pypi.org/simple"
UBUNTU_SNAPSHOTS = "https://snapshot.ubuntu.com"
