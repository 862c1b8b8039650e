from __future__ import annotations

import hashlib
import struct
import zlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from firmware_signing import signed_image

from smpctl.errors import (
    DowngradeRefusedError,
    FirmwareImageError,
    ImageSignatureError,
    WrongModelError,
)
from smpctl.usb.image import (
    HEADER_SIZE,
    FirmwareVersion,
    image_is_intact,
    parse_image,
    read_image,
)
from smpctl.usb.keys import SIMULATOR_TEST_KEY, TrustedKey


def _reseal_payload(data: bytes, payload: bytes) -> bytes:
    """Swap the payload and fix both checksums, keeping the old signature."""
    header = bytearray(data[:HEADER_SIZE])
    struct.pack_into(
        "<II32s", header, 36, len(payload), zlib.crc32(payload), hashlib.sha256(payload).digest()
    )
    return bytes(header) + payload


def test_a_signed_image_parses_and_names_its_signer() -> None:
    image = parse_image(signed_image("1.2.3"))
    assert image.model == "SMP-Sim R1"
    assert image.version == FirmwareVersion(1, 2, 3)
    assert image.verify_signature(simulated_pen=True) == SIMULATOR_TEST_KEY
    assert image_is_intact(image.data)


def test_the_simulator_key_is_not_trusted_for_a_real_pen() -> None:
    image = parse_image(signed_image())
    with pytest.raises(ImageSignatureError, match="simulated pen only"):
        image.verify_signature(simulated_pen=False)
    real_key = TrustedKey("release", SIMULATOR_TEST_KEY.public_key, simulated_only=False)
    assert image.verify_signature(simulated_pen=False, keys=(real_key,)) == real_key


def test_a_damaged_signature_is_refused() -> None:
    data = bytearray(signed_image())
    data[100] ^= 0x01  # inside the signature
    with pytest.raises(ImageSignatureError, match="does not verify"):
        parse_image(bytes(data)).verify_signature(simulated_pen=True)


def test_a_payload_swapped_with_fresh_checksums_fails_the_signature() -> None:
    data = signed_image()
    forged = _reseal_payload(data, b"\x00" * 8192)
    image = parse_image(forged)  # the checksums hold...
    with pytest.raises(ImageSignatureError):  # ...but the signature covers the SHA-256
        image.verify_signature(simulated_pen=True)


def test_an_image_signed_by_an_unknown_key_is_refused() -> None:
    stranger = Ed25519PrivateKey.generate()
    image = parse_image(signed_image(signer=stranger))
    with pytest.raises(ImageSignatureError, match="unknown key"):
        image.verify_signature(simulated_pen=True)


def test_an_image_for_another_model_is_refused() -> None:
    image = parse_image(signed_image(model="SMP-Pro R2"))
    with pytest.raises(WrongModelError, match="SMP-Pro R2"):
        image.check_model("SMP-Sim R1")
    image.check_model("SMP-Pro R2")


@pytest.mark.parametrize("keep", [0, 10, HEADER_SIZE - 1, HEADER_SIZE, HEADER_SIZE + 4000])
def test_a_truncated_image_is_refused(keep: int) -> None:
    with pytest.raises(FirmwareImageError, match=r"truncated|shorter"):
        parse_image(signed_image()[:keep])


def test_a_corrupted_payload_fails_the_checksum() -> None:
    data = bytearray(signed_image())
    data[HEADER_SIZE + 5] ^= 0x40
    with pytest.raises(FirmwareImageError, match="CRC-32"):
        parse_image(bytes(data))
    assert not image_is_intact(bytes(data))


def test_a_raw_binary_is_not_taken_for_an_image() -> None:
    with pytest.raises(FirmwareImageError, match="magic"):
        parse_image(b"\x7fELF" + bytes(400))


def test_trailing_bytes_are_refused() -> None:
    with pytest.raises(FirmwareImageError, match="after its payload"):
        parse_image(signed_image() + b"\x00")


def test_a_downgrade_is_refused_unless_allowed() -> None:
    image = parse_image(signed_image("1.0.5"))
    with pytest.raises(DowngradeRefusedError, match="--allow-downgrade"):
        image.check_not_downgrade(FirmwareVersion(1, 1, 0), allow=False)
    assert image.check_not_downgrade(FirmwareVersion(1, 1, 0), allow=True) is True
    assert image.check_not_downgrade(FirmwareVersion(1, 0, 5), allow=False) is False
    assert image.check_not_downgrade(FirmwareVersion(0, 9, 9), allow=False) is False


@pytest.mark.parametrize("text", ["1.2", "1.2.3.4", "a.b.c", "1.-1.0", ""])
def test_versions_are_three_numbers(text: str) -> None:
    with pytest.raises(ValueError):
        FirmwareVersion.parse(text)


def test_an_unreadable_file_is_a_firmware_image_error(tmp_path: Path) -> None:
    with pytest.raises(FirmwareImageError, match="cannot read"):
        read_image(tmp_path / "missing.smpfw")


def test_the_usb_package_surface_is_what_it_declares() -> None:
    import smpctl.usb as package

    assert len(set(package.__all__)) == len(package.__all__)
    for name in package.__all__:
        assert getattr(package, name) is not None
