"""Journeys as use cases (issue 15; docs/journeys.md).

* :mod:`.definitions`: validate, apply (create or new version), list, show, pause, resume, archive;
* :mod:`.templates`: the journey templates shipped with the package (``aftersales journeys init``);
* the runtime's modules (facts, enrollment, advancing, the worker, simulation) sit beside them.

Nothing is imported here, so importing one module of the package loads only what it needs.
"""
