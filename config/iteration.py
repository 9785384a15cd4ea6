"""Iterating in batches: lists of `size` items (itertools.batched, which Python 3.11
lacks, gives tuples from 3.12). The reminder sweep reads and writes in batches, and the
exports stream them."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator


def batched(items: Iterable, size: int) -> Iterator[list]:
    """Lists of `size` items, the last one shorter."""
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk
