"""SQLAlchemy implementations of the service plane's ports (``services/ports.py``) and the unit of work."""

from aftersales.adapters.sql.repositories.unit_of_work import SqlUnitOfWork, unit_of_work_factory

__all__ = ["SqlUnitOfWork", "unit_of_work_factory"]
