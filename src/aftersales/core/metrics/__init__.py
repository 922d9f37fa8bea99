"""Retention metrics as Ibis expressions over the contract tables: one definition, every engine.

Each module holds one metric family; each metric is a function taking Ibis tables and a
:class:`~aftersales.core.metrics.periods.Periods` and returning an Ibis table with the columns
``metric``, ``period``, ``segment``, ``value`` and the parts of its formula. Building an
expression is pure; executing it is the engine adapter's job. Formulas: ``docs/metrics.md``.
"""
