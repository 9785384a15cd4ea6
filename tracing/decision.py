"""The decision rule of a trace: from the bits read on a leak to a verdict.

Under the hypothesis that the leak does not carry a candidate's code (an unmarked image,
another recipient's copy, another asset), each bit read agrees with that code by chance:
the number of bit errors follows Binomial(CODE_BITS, 1/2). A candidate is a match only
when so few errors would happen by chance with probability below MATCH_FALSE_RATE,
counted over all the candidates (a union bound: candidates x binomial lower tail). Between
that and INCONCLUSIVE_FALSE_RATE the verdict is inconclusive; above it, no match.

With 128 bits and 200 candidates, a match needs at most max_errors_for(1e-9, 128, 200) = 26
bit errors (chance of a false match below 1e-9 per trace; inconclusive up to 38); a marked
copy that went through the leaks of DESIGN section 10 reads with a few errors at most.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np

MATCH_FALSE_RATE = 1e-9
INCONCLUSIVE_FALSE_RATE = 1e-3


def chance_of_at_most(errors: int, bits: int) -> float:
    """P(Binomial(bits, 1/2) <= errors): an unrelated code agreeing this well by chance."""
    return sum(comb(bits, k) for k in range(errors + 1)) / 2**bits


def false_match_probability(errors: int, bits: int, candidates: int) -> float:
    return min(1.0, candidates * chance_of_at_most(errors, bits))


def max_errors_for(rate: float, bits: int, candidates: int) -> int:
    """The most bit errors whose false-match probability stays below `rate` (-1: none)."""
    errors = -1
    while errors + 1 <= bits and false_match_probability(errors + 1, bits, candidates) < rate:
        errors += 1
    return errors


@dataclass(frozen=True)
class Candidate:
    key: object  # what the caller identifies the candidate by (a disclosure id)
    bit_errors: int
    false_match_probability: float

    @property
    def confidence(self) -> float:
        return 1.0 - self.false_match_probability


@dataclass(frozen=True)
class Decision:
    verdict: str  # match | no_match | inconclusive
    candidates: list[Candidate]  # the plausible ones (below INCONCLUSIVE_FALSE_RATE), best first
    bits: int


def decide(read_bits: np.ndarray, codes: dict[object, np.ndarray]) -> Decision:
    bits = len(read_bits)
    scored = sorted(
        (
            Candidate(
                key,
                int(np.count_nonzero(code != read_bits)),
                false_match_probability(
                    int(np.count_nonzero(code != read_bits)), bits, max(1, len(codes))
                ),
            )
            for key, code in codes.items()
        ),
        key=lambda c: c.bit_errors,
    )
    plausible = [c for c in scored if c.false_match_probability < INCONCLUSIVE_FALSE_RATE]
    if not plausible:
        return Decision("no_match", [], bits)
    strong = [c for c in plausible if c.false_match_probability < MATCH_FALSE_RATE]
    # Two codes both read this well cannot both be on the copy: never name either.
    if len(strong) == 1:
        return Decision("match", plausible, bits)
    return Decision("inconclusive", plausible, bits)
