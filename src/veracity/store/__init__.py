"""Storage of checks and feedback: SQLAlchemy models, repository functions, migrations.

The store knows nothing of HTTP. The schema is created only by the Alembic migrations
(:func:`veracity.store.migrate.upgrade`); SQLite is the default, any SQLAlchemy URL works.
"""
