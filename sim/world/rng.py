"""Random streams: one named `numpy.random.Generator` per random process.

Each stream is spawned from a `SeedSequence` keyed by (seed, replication, stream), never
by scheme, so every scheme of a replication sees the same customers, failures and draws
(common random numbers), and adding a new stream does not shift the numbers of the others.
The key does not depend on which worker runs the replication.
"""

from __future__ import annotations

import numpy as np

#: Stable ids: append new streams at the end, never renumber.
STREAMS: dict[str, int] = {
    "customers": 0,  # tiers, renewal dates
    "failures": 1,  # failure times and which customer
    "job_mix": 2,  # job type per failure
    "durations": 3,  # on-site time per visit
    "travel": 4,  # travel time per visit
    "parts": 5,  # part on the van
    "fix": 6,  # fix outcome per visit
    "detect": 7,  # whether a non-fix is noticed
    "callbacks": 8,  # delay before an unnoticed non-fix comes back
    "surveys": 9,  # transactional NPS responses
    "churn": 10,  # renewal decisions
    "workforce": 11,  # technician skills
    "rushed": 12,  # whether the customer perceives a visit as rushed
    "relational": 13,  # relational NPS at renewal
    "behaviour": 14,  # intrinsic weights of the technicians (model options)
    "extra": 15,  # draws beyond the pre-drawn visit slots
    "learning": 16,  # exploration signs of the learning technicians
    "gaming": 17,  # premature-closure decisions
    "attrition": 18,  # quit decisions
    "hiring": 19,  # skill and intrinsic weight of replacement technicians
    "history": 20,  # bad experiences of the part of the first term before the run
    "acquisition": 21,  # new accounts: when they join, tier, renewal draws
    "new_failures": 22,  # failures of the new accounts
    "maintenance": 23,  # planned visits: phase, on-site time, travel; failure thinning
    "tm": 24,  # time-and-materials calls: arrivals, job types, visit draws
    "referrals": 25,  # candidate referred accounts: when they join, tier, renewal, acceptance
    "referral_failures": 26,  # failures of the candidate referred accounts, their job types
}


def stream(seed: int, replication: int, name: str) -> np.random.Generator:
    """The generator for one random process of one replication."""
    ss = np.random.SeedSequence(entropy=seed, spawn_key=(replication, STREAMS[name]))
    return np.random.Generator(np.random.PCG64(ss))


def substream(seed: int, replication: int, name: str, *key: int) -> np.random.Generator:
    """A generator of its own for one item of a random process, e.g. the applicants for one
    hire of one technician slot: the child sequence `key` of the stream `name` (spawn key
    (replication, stream id, *key)), so the item's numbers do not depend on how many other
    items are drawn, nor in which order, and the stream's own numbers do not move."""
    ss = np.random.SeedSequence(entropy=seed, spawn_key=(replication, STREAMS[name], *key))
    return np.random.Generator(np.random.PCG64(ss))
