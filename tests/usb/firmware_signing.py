"""Build firmware images signed with the simulator test key (tests and demos only).

The key is in tests/usb/keys/ and nowhere in smpctl: smpctl trusts it for the simulated
pen only. As a script: ``python tests/usb/firmware_signing.py OUT.smpfw --version 1.1.0``.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from smpctl.sim.firmware import MODEL
from smpctl.usb.image import FirmwareVersion, build_image

KEY_PATH = Path(__file__).resolve().parent / "keys" / "simulator-test-signing-key.pem"


def simulator_signing_key() -> Ed25519PrivateKey:
    key = load_pem_private_key(KEY_PATH.read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


def signed_image(
    version: str = "1.1.0",
    *,
    model: str = MODEL,
    size: int = 8192,
    signer: Ed25519PrivateKey | None = None,
) -> bytes:
    """A deterministic payload of ``size`` bytes, signed by ``signer`` (the test key)."""
    payload = hashlib.shake_256(f"test firmware {model} {version}".encode()).digest(size)
    return build_image(
        payload,
        model=model,
        version=FirmwareVersion.parse(version),
        signer=signer if signer is not None else simulator_signing_key(),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--version", default="1.1.0")
    parser.add_argument("--model", default=MODEL)
    parser.add_argument("--size", type=int, default=8192)
    args = parser.parse_args()
    args.out.write_bytes(signed_image(args.version, model=args.model, size=args.size))
    print(f"{args.out}: {args.model} {args.version}, signed with the simulator test key")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
