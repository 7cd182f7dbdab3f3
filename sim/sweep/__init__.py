"""Parameter sweeps: designs, execution, tables, sensitivity indices."""
