"""A treatment session from the dashboard's point of view, without any Textual: the start
form and its problems (start_form), the figures per zone (zone_figures), the live dose and
its guard (live_dose, dose_text), the open session (treatment_session), the client's history
and hair measurements on the start screen (client_history, hair_measurement).

Kept apart from the widgets so every rule (expired cartridge refused, no consent no needle,
a 36-pin dose never counted as a 1RL one, the needle stopped at a zone's ceiling until an
override with a reason) is tested without a screen. The two names re-exported here are the
ones other layers drive a session with (the review's test journals, the dashboard bench).
"""

from __future__ import annotations

from .start_form import SessionForm
from .treatment_session import TreatmentSession

__all__ = ["SessionForm", "TreatmentSession"]
