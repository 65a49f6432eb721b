"""Tiny timing helpers shared by the benchmarks."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable


def per_call_us(fn: Callable[[], object], n: int, repeats: int = 5) -> float:
    """Median over ``repeats`` of the mean time of ``n`` calls, in microseconds."""
    for _ in range(min(n, 200)):
        fn()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter() - t0) / n * 1e6)
    return statistics.median(samples)


def interleaved(fns: dict[str, Callable[[], object]], n: int, rounds: int = 7) -> dict[str, float]:
    """Per-call µs for each function, measured in alternating rounds so drift hits all alike."""
    for fn in fns.values():
        for _ in range(min(n, 200)):
            fn()
    samples: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            samples[name].append((time.perf_counter() - t0) / n * 1e6)
    return {k: statistics.median(v) for k, v in samples.items()}


def alternating_calls(fns: dict[str, Callable[[], object]], n: int) -> dict[str, tuple[float, float]]:
    """(median, mean) µs of one call of each function, the functions taking turns call by call.

    Alternating single calls puts every variant under the same machine load at each moment; the order is
    shuffled each turn, so no variant always runs in the caches the same other one left. The median drops
    the calls hit by a scheduler pause; the mean keeps them (and any work a background thread did
    meanwhile), so both are returned.
    """
    for fn in fns.values():
        for _ in range(min(n, 200)):
            fn()
    clock = time.perf_counter_ns
    samples: dict[str, list[int]] = {k: [] for k in fns}
    order, shuffle = list(fns.items()), random.Random(0).shuffle
    for _ in range(n):
        shuffle(order)
        for name, fn in order:
            t0 = clock()
            fn()
            samples[name].append(clock() - t0)
    return {k: (statistics.median(v) / 1e3, statistics.fmean(v) / 1e3) for k, v in samples.items()}
