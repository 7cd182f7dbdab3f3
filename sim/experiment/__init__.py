"""Running tasks: replications of a scenario, budget-neutral search, the executor."""
