"""The review screens: browse clients and sessions, drill into a zone and a pass, replay a
pass in the live dashboard's own gauge and plot. ``ReviewScreen`` can be pushed from any
app (the dashboard's start screen does); ``ReviewApp`` runs it alone (`smpctl review`)."""

from __future__ import annotations

from .app import ReviewApp
from .screens import PassScreen, ReviewScreen, SessionScreen, ZoneScreen

__all__ = ["PassScreen", "ReviewApp", "ReviewScreen", "SessionScreen", "ZoneScreen"]
