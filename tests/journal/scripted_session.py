"""A recording program for the crash tests: a scripted session on the simulated pen that
ends with the pedal down, waiting to be killed. Run: python scripted_session.py JOURNAL."""

from __future__ import annotations

import sys
import time

import smpctl.sim as sim
from smpctl.client import LinkState, connect
from smpctl.journal import Journal, Recorder
from smpctl.protocol import SimAction


def main(path: str) -> None:
    journal = Journal.open(path)
    pen = connect("sim://crash?seed=5")
    pen.set_telemetry_rate(500)
    recorder = Recorder(journal, pen).start()
    recorder.subscribe(lambda r: print(r.kind, r.uid, r.detail, flush=True))

    def hold(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            pen.alive()
            time.sleep(0.01)

    journal.open_session("C-0300", 2, "practitioner 1", consent=True, simulated=True)
    journal.register_cartridge("1RL 0.20", "L-1", "2031-01-31")
    journal.set_zone("HL")
    pen.set_speed(100)
    pen.arm()
    pen.run()
    pen.sim(SimAction.PEDAL, 1)
    hold(0.3)
    journal.set_zone("TMP_L")  # mid-pass: splits it
    hold(0.3)
    pen.sim(SimAction.PEDAL, 0)
    hold(0.2)
    pen.sim(SimAction.PEDAL, 1)
    hold(0.3)
    sim.unplug("crash")  # the cable is pulled mid-pass
    pen.wait_for_state(LinkState.LOST, 2.0)
    pen.sim = pen.sim  # (the pedal stays down in the practitioner's foot)
    sim.plug("crash")
    end = time.monotonic() + 3.0
    while pen.state is not LinkState.CONNECTED and time.monotonic() < end:
        hold(0.05)
    pen.set_speed(100)
    pen.arm()
    pen.run()
    hold(0.3)
    recorder.sync()
    print("crash-point", flush=True)
    hold(60)


if __name__ == "__main__":
    main(sys.argv[1])
