"""The build pauses Python's cyclic collector and gives it back as it found it."""

from __future__ import annotations

import gc

import pytest

from solar.build.tile import paused_collection


@pytest.fixture
def collector_enabled():
    was_enabled = gc.isenabled()
    gc.enable()
    yield
    if not was_enabled:
        gc.disable()


def test_collection_is_paused_inside_and_back_after(collector_enabled):
    with paused_collection():
        assert not gc.isenabled()
        with paused_collection():
            assert not gc.isenabled()
        # the inner block found it paused, so leaves it paused
        assert not gc.isenabled()
    assert gc.isenabled()


def test_collection_comes_back_after_an_error(collector_enabled):
    @paused_collection()
    def failing() -> None:
        assert not gc.isenabled()
        raise ValueError("a tile failed")

    with pytest.raises(ValueError, match="a tile failed"):
        failing()
    assert gc.isenabled()


def test_a_paused_collector_stays_paused():
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        with paused_collection():
            pass
        assert not gc.isenabled()
    finally:
        if was_enabled:
            gc.enable()
