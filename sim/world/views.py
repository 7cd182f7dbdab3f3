"""Arrays the model reads one number at a time: memoryviews of numpy arrays, and packed
`array.array`s (8 bytes a number, where a list of floats takes 32; indexed like a list)."""

from __future__ import annotations

from array import array
from collections.abc import Sequence

import numpy as np

#: array typecode -> numpy dtype of the same items
DTYPES = {"d": np.float64, "q": np.int64}


def packed(code: str, parts: Sequence[np.ndarray]) -> array:
    """The numbers of `parts`, in turn, as one `array.array` of typecode `code` ("d"
    float, "q" integer)."""
    out = array(code)
    for x in parts:
        out.frombytes(np.ascontiguousarray(x, dtype=DTYPES[code]).tobytes())
    return out


def float_view(a: np.ndarray) -> memoryview[float]:
    """A 2-D array as a memoryview of floats, read as view[i, j] (a Python float, faster
    than a list of lists and nothing to convert; an empty array gives an empty 1-D view)."""
    a = np.ascontiguousarray(a, dtype=float)
    b = a.reshape(-1).data.cast("B")  # flat first: a length-1 axis may have a 0 stride
    return b.cast("d", a.shape) if a.size else b.cast("d")
