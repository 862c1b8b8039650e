"""smpctl.protocol as a package: its public surface, and that it stands alone."""

from __future__ import annotations

import json
import subprocess
import sys

import smpctl.protocol as protocol

PUBLIC_SURFACE = {
    # constants
    "BOOTLOADER_MAGIC",
    "FRAME_GAP_S",
    "MAX_FRAME",
    "MAX_PAYLOAD",
    "OVERHEAD",
    "PROTOCOL_MAJOR",
    "PROTOCOL_MINOR",
    "SOF",
    "STOP_FAULTS",
    "USB_PID_DFU",
    "USB_PID_PEN",
    "USB_VID",
    # codes
    "CalibrationKey",
    "Capability",
    "ConfigKey",
    "EventKind",
    "Fault",
    "MsgType",
    "NakCode",
    "ParamTable",
    "RunMode",
    "SimAction",
    "SimFault",
    "Status",
    "StopReason",
    # messages
    "Ack",
    "Arm",
    "Disarm",
    "EStop",
    "Event",
    "Heartbeat",
    "Hello",
    "HelloReply",
    "HostMessage",
    "Message",
    "Nak",
    "ParamValue",
    "PenMessage",
    "ReadParam",
    "RebootBootloader",
    "Run",
    "SetDepth",
    "SetRunMode",
    "SetSpeed",
    "SetStroke",
    "SetTelemetryRate",
    "SimControl",
    "Stop",
    "Telemetry",
    "Unknown",
    "WriteParam",
    # codec
    "DecoderStats",
    "EncodeError",
    "StreamDecoder",
    "crc16",
    "decode_payload",
    "encode",
    "payload_size",
    "type_of",
}


def test_public_surface_is_exactly_what_all_lists() -> None:
    """Changing the public surface is a deliberate act: update this list with it."""
    assert set(protocol.__all__) == PUBLIC_SURFACE
    assert len(protocol.__all__) == len(PUBLIC_SURFACE), "a name is listed twice"
    for name in protocol.__all__:
        assert getattr(protocol, name) is not None


def test_star_import_gives_the_public_surface_and_nothing_else() -> None:
    namespace: dict[str, object] = {}
    exec("from smpctl.protocol import *", namespace)
    namespace.pop("__builtins__")
    assert set(namespace) == PUBLIC_SURFACE


def test_no_public_name_is_left_out_of_all() -> None:
    submodules = {"codec", "codes", "messages"}
    public = {n for n in vars(protocol) if not n.startswith("_")} - submodules
    assert public == set(protocol.__all__)


def test_protocol_imports_nothing_else_from_smpctl_and_no_io() -> None:
    """The codec is pure: importing it must not pull in the rest of smpctl, a serial
    library or pydantic, so it can be reused (firmware tests, tools) on its own."""
    code = "import json, sys, smpctl.protocol; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    modules = set(json.loads(result.stdout))
    ours = {m for m in modules if m == "smpctl" or m.startswith("smpctl.")}
    assert ours == {
        "smpctl",
        "smpctl.protocol",
        "smpctl.protocol.codec",
        "smpctl.protocol.codes",
        "smpctl.protocol.messages",
    }
    heavy = {"serial", "socket", "threading", "pydantic", "textual", "asyncio"}
    assert not modules & heavy, modules & heavy
