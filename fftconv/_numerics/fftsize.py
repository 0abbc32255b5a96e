"""Choosing transform lengths by cost, not only by the next fast length."""

from __future__ import annotations

import bisect
import math
from functools import lru_cache

__all__ = ["smooth_numbers", "size_cost", "best_size", "capped_lengths", "log_factor"]

_LIMIT = 1 << 31


@lru_cache(maxsize=1)
def smooth_numbers() -> tuple[int, ...]:
    """All 7-smooth numbers (``2^a 3^b 5^c 7^d``) below 2**31, sorted."""
    out = []
    p2 = 1
    while p2 < _LIMIT:
        p3 = p2
        while p3 < _LIMIT:
            p5 = p3
            while p5 < _LIMIT:
                p7 = p5
                while p7 < _LIMIT:
                    out.append(p7)
                    p7 *= 7
                p5 *= 5
            p3 *= 3
        p2 *= 2
    return tuple(sorted(out))


def size_cost(n: int, weights: dict[str, float], real_last: bool = False) -> float:
    """Relative cost of a length-``n`` transform: ``n * sum(log2 p * w_p)`` over its factors."""
    if n <= 1:
        return 1.0
    cost, m = 0.0, n
    for p in (2, 3, 5, 7):
        while m % p == 0:
            cost += math.log2(p) * weights.get(str(p), 1.0)
            m //= p
    if m > 1:  # not smooth: Bluestein-like, heavily penalised
        cost += 4 * math.log2(m) * weights.get("other", 3.0)
    if real_last and n % 2:
        cost *= weights.get("odd_real", 1.3)
    return n * cost


@lru_cache(maxsize=4096)
def _best(m: int, weights: tuple[tuple[str, float], ...], real_last: bool) -> int:
    nums = smooth_numbers()
    w = dict(weights)
    if m <= 1:
        return 1
    i = bisect.bisect_left(nums, m)
    if i == len(nums):  # beyond the table: the next power of two is smooth too
        return 1 << (m - 1).bit_length()
    best, best_cost = nums[i], math.inf
    while i < len(nums) and nums[i] <= 2 * m:
        c = size_cost(nums[i], w, real_last)
        if c < best_cost:
            best, best_cost = nums[i], c
        i += 1
    return best


_BEST: tuple[dict[str, float] | None, dict[tuple[int, bool], int]] = (None, {})


def best_size(m: int, weights: dict[str, float], real_last: bool = False) -> int:
    """The cheapest 7-smooth length ``>= m`` under the weights (searching up to ``2m``)."""
    global _BEST
    owner, memo = _BEST
    if owner is not weights:
        owner, memo = weights, {}
        _BEST = (owner, memo)
    key = (m, real_last)
    size = memo.get(key)
    if size is None:
        size = memo[key] = _best(int(m), tuple(sorted(weights.items())), bool(real_last))
    return size


#: The weights the memo below was made with, and ``(edges, least, top, real) -> lengths``.
_CAPPED: tuple[dict[str, float] | None,
               dict[tuple, tuple[tuple[int, ...], tuple[float, ...]]]] = (None, {})


def capped_lengths(edges: tuple[int, ...], least: int, top: int, weights: dict[str, float],
                   real: bool = False) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Per edge ``e`` of ``edges``: the cheapest length ``>= max(e, least)``
    (:func:`best_size`), at most ``top``; and each length's ``size_cost / length``, its
    term of :func:`log_factor` (``real``: a real transform's last axis). Remembered per
    arguments and weights."""
    global _CAPPED
    owner, memo = _CAPPED
    if owner is not weights:
        owner, memo = weights, {}
        _CAPPED = (owner, memo)
    key = (edges, least, top, real)
    got = memo.get(key)
    if got is None:
        lengths = tuple([min(best_size(max(e, least), weights, real), top) for e in edges])
        got = memo[key] = (lengths, tuple([size_cost(n, weights, real) / n for n in lengths]))
    return got


#: The weights the memo below was made with, and ``(shape, real) -> log factor``.
_LOG_FACTORS: tuple[dict[str, float] | None, dict[tuple[tuple[int, ...], bool], float]] = (None, {})


def log_factor(shape: tuple[int, ...], weights: dict[str, float], real: bool) -> float:
    """``sum(size_cost(s) / s)`` over the axes: a transform's effective ``log2 n``
    (``real``: the last axis is a real transform). Remembered per shape and weights."""
    global _LOG_FACTORS
    owner, memo = _LOG_FACTORS
    if owner is not weights:
        owner, memo = weights, {}
        _LOG_FACTORS = (owner, memo)
    value = memo.get((shape, real))
    if value is None:
        last = len(shape) - 1
        value = memo[(shape, real)] = sum(size_cost(s, weights, real and i == last) / s
                                          for i, s in enumerate(shape))
    return value
