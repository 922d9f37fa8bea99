"""The operational store: SQLAlchemy 2 tables derived from the contract, migrations, repositories."""
