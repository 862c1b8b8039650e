"""STOP reaches the pen from the terminal's input thread, without the UI loop."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from frozen_pen import FrozenPen
from textual import events

from smpctl.journal import Journal
from smpctl.tui.app import Dashboard


async def test_space_from_the_terminal_input_thread_stops_the_pen_while_the_app_is_not_running(
    tmp_path: Path,
) -> None:
    pen = FrozenPen()
    with Journal.open(tmp_path / "j.sqlite3") as journal:
        app = Dashboard(lambda: pen, journal=journal, simulated=True)  # type: ignore[arg-type,return-value]
        app.pen = pen  # type: ignore[assignment]
        driver_class: Any = app.get_driver_class()
        driver = driver_class(app, debug=False, mouse=False, size=(80, 24))
        # the app is not running: only the driver's input thread can act
        reader = threading.Thread(target=driver.process_message, args=(events.Key("space", " "),))
        reader.start()
        reader.join()
        deadline = time.monotonic() + 2.0
        expected = ["stop_now", "stop", "disarm"]  # written at once, confirmed, disarmed
        while time.monotonic() < deadline and [c for c, _ in pen.calls] != expected:
            time.sleep(0.005)
        app.stopper.close()
    assert [c for c, _ in pen.calls] == expected


async def test_other_keys_from_the_input_thread_do_not_stop_the_pen(tmp_path: Path) -> None:
    pen = FrozenPen()
    with Journal.open(tmp_path / "j.sqlite3") as journal:
        app = Dashboard(lambda: pen, journal=journal, simulated=True)  # type: ignore[arg-type,return-value]
        app.pen = pen  # type: ignore[assignment]
        driver = app.get_driver_class()(app, debug=False, mouse=False, size=(80, 24))  # type: ignore[call-arg]
        driver.process_message(events.Key("a", "a"))
        time.sleep(0.1)
        app.stopper.close()
    assert pen.calls == []
