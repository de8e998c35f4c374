"""Offline evals: replay labelled datasets through the real graph; reports, sweeps, comparisons, simulations."""
