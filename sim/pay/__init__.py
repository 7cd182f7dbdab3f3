"""Pay: formulas from schemes, the one pay function, and which visit earns which pay term."""
