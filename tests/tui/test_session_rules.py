"""Session rules the dashboard enforces, without a screen."""

from __future__ import annotations

import datetime as dt

from smpctl.tui.calibration import Calibration
from smpctl.tui.session_flow.start_form import SessionForm

TODAY = dt.date(2026, 11, 25)
GOOD = SessionForm(
    client="C-1",
    practitioner="AB",
    cartridge_lot="L",
    cartridge_expiry="2027-01-01",
    pigment_lot="P",
    consent=True,
)


def test_a_complete_form_has_no_problems() -> None:
    assert GOOD.problems(TODAY) == []


def test_an_expired_cartridge_is_refused_with_its_date() -> None:
    form = SessionForm(**{**GOOD.__dict__, "cartridge_expiry": "2026-11-24"})
    assert any("expired on 2026-11-24" in p for p in form.problems(TODAY))


def test_a_cartridge_expiring_today_is_still_usable() -> None:
    form = SessionForm(**{**GOOD.__dict__, "cartridge_expiry": "2026-11-25"})
    assert form.problems(TODAY) == []


def test_no_consent_no_session() -> None:
    form = SessionForm(**{**GOOD.__dict__, "consent": False})
    assert form.problems(TODAY) == ["record the client's consent"]


def test_unknown_skin_condition_is_named() -> None:
    form = SessionForm(**{**GOOD.__dict__, "skin": SessionForm.parse_skin("thin, scaly")})
    assert any("scaly" in p and "sun-damaged" in p for p in form.problems(TODAY))


def test_skin_text_is_parsed_in_any_order_and_case() -> None:
    assert SessionForm.parse_skin(" Oily; thin ,") == ("oily", "thin")


def test_a_bad_expiry_date_says_the_format() -> None:
    form = SessionForm(**{**GOOD.__dict__, "cartridge_expiry": "31/12/2027"})
    assert "enter the cartridge expiry as YYYY-MM-DD" in form.problems(TODAY)


def test_an_expired_pen_calibration_blocks_the_needle_on_any_pen() -> None:
    cal = Calibration(dt.date(2026, 8, 1), dt.date(2026, 10, 30), None, None)
    for simulated in (True, False):
        problem = cal.problem(TODAY, simulated=simulated)
        assert problem is not None and "expired on 2026-10-30" in problem


def test_a_real_pen_without_calibration_is_refused_a_simulated_one_is_not() -> None:
    cal = Calibration(None, None, None, None)
    problem = cal.problem(TODAY, simulated=False)
    assert problem is not None and "calibrate_speed" in problem
    assert cal.problem(TODAY, simulated=True) is None
