"""Whether this machine runs a platform's programs: natively, or through a handler the
kernel's ``binfmt_misc`` applies to them (qemu user-mode emulation, as Debian's
``qemu-user-static`` registers it).

A handler serves a container only with the fix-binary flag ``F``: the kernel opens the
emulator when the handler is registered, so it need not exist inside the container's
root. The decision (:func:`problem`) is pure; :func:`read_handlers` reads
``/proc/sys/fs/binfmt_misc``.
"""

from __future__ import annotations

import platform as _platform
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError

BINFMT = Path("/proc/sys/fs/binfmt_misc")
# uname's machine → the OCI architecture it runs natively
_NATIVE = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
# OCI architecture → ELF e_machine, and qemu's name of that CPU
_ELF_MACHINE = {"amd64": 0x3E, "arm64": 0xB7}
_QEMU = {"amd64": "x86_64", "arm64": "aarch64"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Handler:
    """One registered ``binfmt_misc`` entry that recognizes files by their first bytes."""

    name: str
    enabled: bool
    flags: str
    offset: int
    magic: bytes
    mask: bytes

    def matches(self, head: bytes) -> bool:
        """Whether the kernel hands a file starting with ``head`` to this handler."""
        want = head[self.offset : self.offset + len(self.magic)]
        if len(want) < len(self.magic):
            return False
        mask = self.mask or b"\xff" * len(self.magic)
        return all((w & m) == (g & m) for w, m, g in zip(want, mask, self.magic, strict=True))


def elf_head(arch: str) -> bytes:
    """The first 20 bytes of a 64-bit little-endian ELF executable for ``arch``."""
    machine = _ELF_MACHINE[arch]
    return b"\x7fELF\x02\x01\x01" + bytes(9) + b"\x02\x00" + machine.to_bytes(2, "little")


def parse_handler(name: str, text: str) -> Handler | None:
    """The entry ``name`` from its file's text; None for one that matches by file name
    extension (or that cannot be read as an entry)."""
    enabled, fields = False, {}
    for line in text.splitlines():
        word, _, rest = line.partition(" ")
        if line in ("enabled", "disabled"):
            enabled = line == "enabled"
        else:
            fields[word.rstrip(":")] = rest.strip()
    try:
        magic = bytes.fromhex(fields["magic"])
        mask = bytes.fromhex(fields.get("mask", ""))
        offset = int(fields.get("offset", "0"))
    except (KeyError, ValueError):
        return None
    if mask and len(mask) != len(magic):
        return None
    return Handler(
        name=name, enabled=enabled, flags=fields.get("flags", ""), offset=offset,
        magic=magic, mask=mask,
    )  # fmt: skip


def read_handlers(root: Path = BINFMT) -> tuple[bool, tuple[Handler, ...]] | None:
    """Whether ``binfmt_misc`` is enabled, and its entries; None where it is not mounted."""
    try:
        status = (root / "status").read_text().strip()
        names = sorted(p.name for p in root.iterdir() if p.name not in ("status", "register"))
    except OSError:
        return None
    found = []
    for name in names:
        try:
            handler = parse_handler(name, (root / name).read_text())
        except OSError:
            continue
        if handler is not None:
            found.append(handler)
    return status == "enabled", tuple(found)


def problem(
    oci_platform: str,
    *,
    machine: str,
    binfmt: tuple[bool, Sequence[Handler]] | None,
) -> str | None:
    """Why programs of ``oci_platform`` (``linux/arm64/v8``) cannot run on a ``machine``
    (uname's) with these ``binfmt_misc`` entries; None when they can."""
    arch = oci_platform.split("/")[1] if oci_platform.count("/") >= 1 else oci_platform
    if _NATIVE.get(machine) == arch or arch not in _ELF_MACHINE:
        return None
    qemu = f"qemu-{_QEMU[arch]}"
    here = f"{oci_platform} programs do not run on this {machine} machine"
    if binfmt is None:
        return f"{here}: {BINFMT} is not mounted (mount -t binfmt_misc binfmt_misc {BINFMT})"
    enabled, handlers = binfmt
    if not enabled:
        return f"{here}: binfmt_misc is disabled (echo 1 > {BINFMT}/status)"
    mine = [h for h in handlers if h.matches(elf_head(arch))]
    if any(h.enabled and "F" in h.flags for h in mine):
        return None
    if any(h.enabled for h in mine):
        names = ", ".join(h.name for h in mine if h.enabled)
        return (
            f"{here}: its binfmt handler ({names}) lacks the fix-binary flag F, so containers "
            f"cannot use it; register {qemu} as Debian's qemu-user-static does (flags OPF)"
        )
    if mine:
        name = mine[0].name
        return f"{here}: its binfmt handler {name} is disabled (echo 1 > {BINFMT}/{name})"
    return (
        f"{here} without emulation: no binfmt handler for {arch} is registered in {BINFMT}; "
        f"install qemu-user-static (apt-get install qemu-user-static; without systemd, then "
        f"/usr/lib/systemd/systemd-binfmt /usr/lib/binfmt.d/{qemu}.conf)"
    )


def check_runs(oci_platform: str, *, needed_for: str, fixes: str) -> None:
    """A one-line :class:`UsageError` when this machine cannot run ``oci_platform``'s
    programs: what needs them, why not, and ``fixes`` (what else the user can do)."""
    said = problem(oci_platform, machine=_platform.machine(), binfmt=read_handlers())
    if said is not None:
        raise UsageError(f"{needed_for}: {said}; {fixes}")
