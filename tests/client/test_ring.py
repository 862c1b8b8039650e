"""The telemetry ring: bounded, never blocks the reader, tells slow consumers what they missed."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smpctl.client import Ring


def test_consumer_reads_everything_since_its_cursor() -> None:
    ring: Ring[int] = Ring(8)
    cursor = ring.cursor
    ring.extend([1, 2, 3])
    read = ring.since(cursor)
    assert read.items == [1, 2, 3]
    assert read.missed == 0
    ring.append(4)
    assert ring.since(read.cursor).items == [4]


def test_slow_consumer_learns_how_many_samples_it_missed() -> None:
    ring: Ring[int] = Ring(4)
    cursor = ring.cursor
    ring.extend(list(range(10)))
    read = ring.since(cursor)
    assert read.items == [6, 7, 8, 9]
    assert read.missed == 6


def test_latest_returns_the_newest_in_order() -> None:
    ring: Ring[int] = Ring(5)
    for i in range(12):
        ring.append(i)
    assert ring.latest(3) == [9, 10, 11]
    assert ring.latest(99) == [7, 8, 9, 10, 11]
    assert len(ring) == 5


def test_zero_capacity_is_refused() -> None:
    with pytest.raises(ValueError):
        Ring(0)


@given(
    capacity=st.integers(1, 20),
    batches=st.lists(st.lists(st.integers(), max_size=30), max_size=20),
)
def test_ring_matches_a_reference_model(capacity: int, batches: list[list[int]]) -> None:
    ring: Ring[int] = Ring(capacity)
    everything: list[int] = []
    cursor = 0
    for batch in batches:
        if len(batch) % 2:
            for x in batch:
                ring.append(x)
        else:
            ring.extend(batch)
        everything.extend(batch)
        read = ring.since(cursor)
        expected_new = everything[cursor:]
        kept = expected_new[len(expected_new) - len(read.items) :] if read.items else []
        assert read.items == kept
        assert read.missed + len(read.items) == len(expected_new)
        assert read.items == everything[-len(read.items) :] if read.items else True
        cursor = read.cursor
    assert ring.latest(capacity) == everything[-capacity:]


def test_writer_never_waits_for_a_consumer_that_holds_nothing() -> None:
    ring: Ring[int] = Ring(1000)
    done = threading.Event()

    def writer() -> None:
        for i in range(100_000):
            ring.append(i)
        done.set()

    t = threading.Thread(target=writer)
    t.start()
    seen = 0
    cursor = 0
    missed = 0
    while not done.is_set() or cursor < ring.cursor:
        read = ring.since(cursor)
        seen += len(read.items)
        missed += read.missed
        cursor = read.cursor
    t.join()
    assert seen + missed == 100_000
