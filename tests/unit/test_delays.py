"""Delays and leases in whole units, rounded up: never shorter than asked for."""

from __future__ import annotations

import pytest

from dynoq.core.ops import to_ms, to_us


@pytest.mark.parametrize(
    ("seconds", "ms"),
    [(0, 0), (0.001, 1), (0.0011, 2), (0.0054, 6), (0.29, 290), (2.5, 2500), (1e-7, 1)],
)
def test_leases_and_delays_round_up_but_not_float_noise(seconds, ms):
    assert to_ms(seconds) == ms
    assert to_us(seconds / 1000) == ms
