"""Arrays the model reads one number at a time, as memoryviews."""

from __future__ import annotations

import numpy as np


def float_view(a: np.ndarray) -> memoryview[float]:
    """A 2-D array as a memoryview of floats, read as view[i, j] (a Python float, faster
    than a list of lists and nothing to convert; an empty array gives an empty 1-D view)."""
    a = np.ascontiguousarray(a, dtype=float)
    b = a.reshape(-1).data.cast("B")  # flat first: a length-1 axis may have a 0 stride
    return b.cast("d", a.shape) if a.size else b.cast("d")
