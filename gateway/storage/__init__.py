"""The gateway's storage: SQLAlchemy Core tables, versioned Alembic migrations, the async engine."""
