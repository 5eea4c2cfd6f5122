"""The pure parts of ``dynoq bench``: the latency histogram and the mix syntax."""

from __future__ import annotations

import random

import pytest

from dynoq.errors import ConfigError
from dynoq.loadtest.histogram import LatencyHistogram
from dynoq.loadtest.options import parse_delay_mix, parse_priorities


def test_percentiles_are_within_one_percent_of_the_exact_ones_and_merge():
    rng = random.Random(1)
    samples = [rng.lognormvariate(1, 1.5) for _ in range(20_000)]
    halves = LatencyHistogram(), LatencyHistogram()
    for index, sample in enumerate(samples):
        halves[index % 2].record(sample)
    merged = LatencyHistogram()
    for half in halves:
        merged.merge(half)
    ordered = sorted(samples)
    for fraction in (0.5, 0.9, 0.99):
        exact = ordered[int(fraction * len(ordered)) - 1]
        assert merged.percentile(fraction) == pytest.approx(exact, rel=0.01)
    assert merged.count == len(samples) and merged.max_ms == max(samples)


def test_an_empty_histogram_has_no_percentiles_and_tiny_latencies_count():
    histogram = LatencyHistogram()
    assert histogram.summary() == {"p50": None, "p90": None, "p99": None, "max": None, "count": 0}
    histogram.record(-0.5)  # clocks of two processes may disagree by a hair
    assert histogram.count == 1 and histogram.percentile(0.5) is not None


def test_priority_weights_are_scaled_to_one_and_delays_keep_their_shares():
    assert parse_priorities("0:9, 9:1") == ((0, 0.9), (9, 0.1))
    assert parse_delay_mix("5:0.1,60:0.01") == ((5.0, 0.1), (60.0, 0.01))


@pytest.mark.parametrize("text", ["", "0", "0:", "a:1", "0:-1", "0:nan", "-1:1", "100:1"])
def test_bad_priority_mixes_are_config_errors(text):
    with pytest.raises(ConfigError, match="--priorities"):
        parse_priorities(text)


@pytest.mark.parametrize("text", ["5", "x:0.1", "-1:0.1", "inf:0.1", "1:0.6,2:0.6"])
def test_bad_delay_mixes_are_config_errors(text):
    with pytest.raises(ConfigError, match="--delay-mix"):
        parse_delay_mix(text)
