"""`smpctl review`: the review screens on their own, over a journal opened for reading."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.app import App
from textual.binding import Binding

from smpctl.journal import Journal

from .screens import ReviewScreen


class ReviewApp(App[None]):
    TITLE = "smpctl review"
    BINDINGS = [Binding("q", "quit", "quit")]

    def __init__(self, journal: Journal, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.journal = journal
        self.clock = clock

    def on_mount(self) -> None:
        self.push_screen(ReviewScreen(self.journal, clock=self.clock))
