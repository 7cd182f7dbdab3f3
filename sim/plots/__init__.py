"""Figures of run and sweep results."""
