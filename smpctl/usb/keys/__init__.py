"""The Ed25519 public keys smpctl trusts to sign pen firmware.

Only public keys live here; private keys never ship with smpctl. A key is trusted either
for every pen or only for the simulated pen: the simulator key's private half is in the
test suite (tests/usb/keys/) for anyone to read, so an image it signed must never reach
a real pen. The vendor's release key is added here when the first real firmware ships.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple


class TrustedKey(NamedTuple):
    name: str
    public_key: bytes
    """Raw 32-byte Ed25519 public key."""
    simulated_only: bool
    """True: images it signs are accepted for the simulated pen only."""

    @property
    def key_id(self) -> bytes:
        """What an image header names its signer by: 8 bytes of the key's SHA-256."""
        return key_id(self.public_key)


def key_id(public_key: bytes) -> bytes:
    return hashlib.sha256(public_key).digest()[:8]


SIMULATOR_TEST_KEY = TrustedKey(
    name="smpctl simulator test key",
    public_key=bytes.fromhex("c99ca64150a630564d49b76ec05586b590f7582e6ec6501ea1569b94125bb4e1"),
    simulated_only=True,
)

TRUSTED_KEYS: tuple[TrustedKey, ...] = (SIMULATOR_TEST_KEY,)
"""Every key smpctl trusts. Add the release key as ``simulated_only=False``."""

__all__ = ["SIMULATOR_TEST_KEY", "TRUSTED_KEYS", "TrustedKey", "key_id"]
