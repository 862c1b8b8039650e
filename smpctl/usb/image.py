"""Signed pen firmware images: a 160-byte header, then the payload the pen runs.

The bootloader writes the whole file (header included) from the start of application
flash, so uploading the first bytes back tells what is installed. The header layout
(little-endian) is documented in ``HEADER_LAYOUT``; the Ed25519 signature covers the
first 96 header bytes, which hold the payload's SHA-256, so it binds the model, the
version and every payload byte. The CRC-32 is there for the bootloader, which checks it
cheaply at every boot; the host checks both.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from smpctl.errors import (
    DowngradeRefusedError,
    FirmwareImageError,
    ImageSignatureError,
    WrongModelError,
)

from .keys import TRUSTED_KEYS, TrustedKey, key_id

MAGIC = b"SMPFWIMG"
HEADER_VERSION = 1
_SIGNED = struct.Struct("<8sHH16sHHHHII32s8s12s")
SIGNED_SIZE = _SIGNED.size
SIGNATURE_SIZE = 64
HEADER_SIZE = SIGNED_SIZE + SIGNATURE_SIZE
MAX_PAYLOAD = 16 * 1024 * 1024

HEADER_LAYOUT = """\
offset size field
0      8    magic "SMPFWIMG"
8      2    header_version (1)
10     2    header_size (160)
12     16   model, ASCII, NUL padded (as HELLO_REPLY reports it)
28     2    version major
30     2    version minor
32     2    version patch
34     2    flags (0)
36     4    payload length, bytes
40     4    payload CRC-32 (zlib)
44     32   payload SHA-256
76     8    signing key id (first 8 bytes of SHA-256 of the raw public key)
84     12   reserved (0)
96     64   Ed25519 signature of bytes 0..95
160    ...  payload
"""


class FirmwareVersion(NamedTuple):
    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> FirmwareVersion:
        parts = text.strip().split(".")
        try:
            numbers = [int(p, 10) for p in parts]
        except ValueError:
            numbers = []
        if len(numbers) != 3 or not all(0 <= n <= 0xFFFF for n in numbers):
            raise ValueError(f"not a firmware version: {text!r} (expected MAJOR.MINOR.PATCH)")
        return cls(*numbers)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


@dataclass(frozen=True)
class FirmwareImage:
    """A parsed image whose checksums hold; ``verify_signature`` says who signed it."""

    model: str
    version: FirmwareVersion
    payload_crc32: int
    payload_sha256: bytes
    key_id: bytes
    signature: bytes
    data: bytes
    """The whole file: what the bootloader is given."""

    @property
    def payload(self) -> bytes:
        return self.data[HEADER_SIZE:]

    @property
    def header(self) -> bytes:
        return self.data[:HEADER_SIZE]

    def verify_signature(
        self, *, simulated_pen: bool, keys: Sequence[TrustedKey] = TRUSTED_KEYS
    ) -> TrustedKey:
        """The trusted key that signed this image; raises ImageSignatureError otherwise."""
        for key in keys:
            if key.key_id != self.key_id:
                continue
            try:
                Ed25519PublicKey.from_public_bytes(key.public_key).verify(
                    self.signature, self.data[:SIGNED_SIZE]
                )
            except InvalidSignature:
                raise ImageSignatureError(
                    f"the image's signature does not verify against {key.name}: the file was "
                    "altered or damaged after signing. Get the image again from its source."
                ) from None
            if key.simulated_only and not simulated_pen:
                raise ImageSignatureError(
                    f"the image is signed with the {key.name}, which smpctl trusts for the "
                    "simulated pen only. Use a release image for a real pen."
                )
            return key
        raise ImageSignatureError(
            f"the image is signed by an unknown key (id {self.key_id.hex()}): smpctl only "
            "installs firmware signed by a key it ships with. Use an official image, or "
            "update smpctl if the image is newer than it."
        )

    def check_model(self, pen_model: str) -> None:
        if self.model != pen_model:
            raise WrongModelError(
                f"the image is for model {self.model!r}, the pen is a {pen_model!r}: "
                "use the image built for this pen's model."
            )

    def check_not_downgrade(self, installed: FirmwareVersion, *, allow: bool) -> bool:
        """True when this is a downgrade that ``allow`` permits; refuses one it does not."""
        if self.version >= installed:
            return False
        if not allow:
            raise DowngradeRefusedError(
                f"the image holds firmware {self.version}, older than the {installed} "
                "installed. Installing older firmware can lose fixes; if that is intended, "
                "run again with --allow-downgrade."
            )
        return True

    def as_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "version": str(self.version),
            "payload_bytes": len(self.payload),
            "crc32": f"{self.payload_crc32:08x}",
            "sha256": self.payload_sha256.hex(),
            "key_id": self.key_id.hex(),
        }


def parse_header(data: bytes) -> tuple[str, FirmwareVersion, int, int, bytes, bytes, bytes]:
    """The header's fields; FirmwareImageError if it is not one of ours."""
    if len(data) < HEADER_SIZE:
        raise FirmwareImageError(
            f"the file is {len(data)} bytes, shorter than a firmware image header "
            f"({HEADER_SIZE}): truncated, or not a firmware image."
        )
    (magic, version, size, model_raw, major, minor, patch, _flags, length, crc, sha, kid, _r) = (
        _SIGNED.unpack_from(data)
    )
    if magic != MAGIC:
        raise FirmwareImageError(
            "not an smpctl firmware image (bad magic): pass the .smpfw file, not a raw binary."
        )
    if version != HEADER_VERSION or size != HEADER_SIZE:
        raise FirmwareImageError(
            f"firmware image header version {version} is not supported by this smpctl: "
            "update smpctl."
        )
    try:
        model = model_raw.rstrip(b"\x00").decode("ascii")
    except UnicodeDecodeError:
        raise FirmwareImageError("the image's model name is not ASCII: damaged file") from None
    signature = data[SIGNED_SIZE:HEADER_SIZE]
    return model, FirmwareVersion(major, minor, patch), length, crc, sha, kid, signature


def parse_image(data: bytes) -> FirmwareImage:
    """Check the format and both checksums (not the signature: see verify_signature)."""
    model, version, length, crc, sha, kid, signature = parse_header(data)
    actual = len(data) - HEADER_SIZE
    if actual < length:
        raise FirmwareImageError(
            f"the image is truncated: its header announces {length} payload bytes, the file "
            f"holds {actual}. Download it again."
        )
    if actual > length:
        raise FirmwareImageError(
            f"the image has {actual - length} bytes after its payload: damaged or not one "
            "file. Download it again."
        )
    payload = data[HEADER_SIZE:]
    if zlib.crc32(payload) != crc:
        raise FirmwareImageError("the image's CRC-32 does not match: damaged. Download it again.")
    if hashlib.sha256(payload).digest() != sha:
        raise FirmwareImageError("the image's SHA-256 does not match: damaged. Download it again.")
    return FirmwareImage(model, version, crc, sha, kid, signature, bytes(data))


def read_image(path: Path) -> FirmwareImage:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FirmwareImageError(f"cannot read the image {path}: {exc.strerror or exc}") from None
    return parse_image(data)


def image_is_intact(flash: bytes) -> bool:
    """What a bootloader checks at boot: a header and a payload whose checksums hold."""
    try:
        _model, _v, length, crc, sha, _k, _s = parse_header(flash)
    except FirmwareImageError:
        return False
    payload = flash[HEADER_SIZE : HEADER_SIZE + length]
    return (
        len(payload) == length
        and zlib.crc32(payload) == crc
        and hashlib.sha256(payload).digest() == sha
    )


def build_image(
    payload: bytes,
    *,
    model: str,
    version: FirmwareVersion,
    signer: Ed25519PrivateKey | None,
) -> bytes:
    """A complete image file. ``signer`` None leaves the signature zero (a factory image in
    the simulator, which the bootloader boots but smpctl would never install)."""
    model_raw = model.encode("ascii")
    if len(model_raw) > 16:
        raise ValueError("model names are at most 16 ASCII characters")
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload larger than {MAX_PAYLOAD} bytes")
    public = (
        signer.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        if signer is not None
        else b""
    )
    signed = _SIGNED.pack(
        MAGIC,
        HEADER_VERSION,
        HEADER_SIZE,
        model_raw,
        *version,
        0,
        len(payload),
        zlib.crc32(payload),
        hashlib.sha256(payload).digest(),
        key_id(public) if signer is not None else bytes(8),
        bytes(12),
    )
    signature = signer.sign(signed) if signer is not None else bytes(SIGNATURE_SIZE)
    return signed + signature + payload
