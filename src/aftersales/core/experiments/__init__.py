"""Experiment statistics engine (the **prove** verb): assignment, tests, corrections, power.

Pure functions on summary statistics (n, sums, sums of squares, cross-products); the engine
(DuckDB, PostgreSQL, Spark through Ibis) computes those sums, this package does the math.
See docs/experiments.md for formulas and how the results compare with GrowthBook, Eppo, Statsig.
"""
