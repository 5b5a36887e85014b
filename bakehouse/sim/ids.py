"""Vectorised identifier formatting.

Identifiers are kept as integers in the simulator's state (cheap, compact, unique by
construction) and only turned into the strings the source systems print when a file is
written. Everything here works on whole numpy arrays so that formatting two million
member ids costs a fraction of a second.
"""

from __future__ import annotations

import numpy as np
import polars as pl

_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def mix64(values: np.ndarray, salt: int) -> np.ndarray:
    """SplitMix64 finaliser of ``values`` xor ``salt``: a stable pseudo-random uint64 per value.

    Hashing (rather than drawing from a generator) makes an identifier a pure function of
    the person and the seed, so it never changes when unrelated code draws more numbers.
    """
    with np.errstate(over="ignore"):
        mixed = values.astype(np.uint64) ^ np.uint64(salt & 0xFFFFFFFFFFFFFFFF)
        mixed = (mixed + np.uint64(0x9E3779B97F4A7C15)) & _MASK64
        mixed = ((mixed ^ (mixed >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _MASK64
        mixed = ((mixed ^ (mixed >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _MASK64
        return mixed ^ (mixed >> np.uint64(31))


def hex_ids(prefix: str, hashed: np.ndarray, width: int) -> pl.Series:
    """``prefix`` followed by the low ``width`` hex digits of each uint64 in ``hashed``."""
    shifts = (np.arange(width - 1, -1, -1, dtype=np.uint64) * np.uint64(4))[None, :]
    nibbles = (hashed.astype(np.uint64)[:, None] >> shifts) & np.uint64(0xF)
    chars = np.ascontiguousarray(_HEX_DIGITS[nibbles.astype(np.intp)])
    body = pl.Series(chars.view(f"S{width}").ravel()).cast(pl.String)
    return prefix + body


def digit_ids(prefix: str, numbers: np.ndarray, width: int) -> pl.Series:
    """``prefix`` followed by ``numbers`` zero-padded to ``width`` digits."""
    return prefix + pl.Series(numbers.astype(np.int64)).cast(pl.String).str.zfill(width)


def unique_numbers(index: np.ndarray, modulus: int, seed: int, salt: int) -> np.ndarray:
    """A bijection of ``index`` onto ``[0, modulus)``: distinct indexes give distinct numbers.

    An affine map with a multiplier coprime to ``modulus`` scrambles sequential indexes
    into random-looking card numbers, phones and voucher codes without any collision
    check, however many are drawn.
    """
    rng = np.random.default_rng([seed, salt])
    multiplier = int(rng.integers(modulus // 3, modulus // 2)) | 1
    while np.gcd(multiplier, modulus) != 1:
        multiplier += 2
    offset = int(rng.integers(0, modulus))
    # uint64 holds multiplier * index for every modulus and population the simulator uses.
    if index.size and int(index.max()) * multiplier >= 2**64 - modulus:
        raise ValueError("index range too large for an overflow-free affine map")
    scrambled = index.astype(np.uint64) * np.uint64(multiplier) + np.uint64(offset)
    return (scrambled % np.uint64(modulus)).astype(np.int64)
