"""techsim: a technician incentive-alignment simulator.

Scenario YAML -> validated `Scenario` -> one replication per (scheme, seed) in SimPy ->
flat records -> KPIs per replication -> tables with confidence intervals.
"""

__version__ = "0.2.0"
