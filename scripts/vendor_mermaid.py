"""Bring the pinned Mermaid build into docs/assets/vendor/, from the npm registry.

    .venv/bin/python scripts/vendor_mermaid.py          # fetch (npm pack) and verify
    .venv/bin/python scripts/vendor_mermaid.py --check  # verify the committed copy only

The docs site must draw its diagrams with no network (issue 18): government networks and
shared drives are cut off, and MkDocs Material would otherwise load Mermaid from a CDN. It
uses a ``window.mermaid`` that is already defined instead, so the site ships this file and
loads it first (docs/overrides/main.html). The build is pinned by version and by the
registry's sha512 integrity of the package, and the extracted file by its sha256, so a
changed copy is caught by ``--check`` (run in the test suite) rather than shipped unseen.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "11.12.0"
"""Material 9.x asks for mermaid@11; this is the pinned release of that line."""
INTEGRITY = (
    "sha512-"
    "ZudVx73BwrMJfCFmSSJT84y6u5brEoV8DOItdHomNLz32uBjNrelm7mg95X7g+C6UoQH/W6mBLGDEDv73JdxBg=="
)
SHA256 = "07e37dfa97b337ccc85365d57eddf99b9706f09db3b59b260d0333b23b343c4b"
VENDOR = Path(__file__).resolve().parents[1] / "docs" / "assets" / "vendor"
TARGET = VENDOR / "mermaid.min.js"
LICENSE = VENDOR / "mermaid.LICENSE"


def check() -> list[str]:
    """What is wrong with the committed copy (nothing: an empty list)."""
    if not TARGET.is_file():
        return [f"{TARGET} is missing (run scripts/vendor_mermaid.py)"]
    digest = hashlib.sha256(TARGET.read_bytes()).hexdigest()
    if digest != SHA256:
        return [f"{TARGET}: sha256 {digest}, pinned {SHA256} (mermaid {VERSION})"]
    if not LICENSE.is_file():
        return [f"{LICENSE} is missing: the MIT licence travels with the file"]
    return []


def fetch() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["npm", "pack", "--loglevel=error", f"mermaid@{VERSION}", "--pack-destination", tmp],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        tarball = Path(tmp) / f"mermaid-{VERSION}.tgz"
        digest = hashlib.sha512(tarball.read_bytes()).digest()
        integrity = "sha512-" + base64.b64encode(digest).decode()
        if integrity != INTEGRITY:
            sys.exit(f"mermaid-{VERSION}.tgz: integrity {integrity}, pinned {INTEGRITY}")
        with tarfile.open(tarball) as tar:
            for member, target in (
                ("package/dist/mermaid.min.js", TARGET),
                ("package/LICENSE", LICENSE),
            ):
                data = tar.extractfile(member)
                if data is None:
                    sys.exit(f"mermaid-{VERSION}.tgz has no {member}")
                VENDOR.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data.read())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    if not args.check:
        fetch()
    problems = check()
    print(*problems, sep="\n", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
