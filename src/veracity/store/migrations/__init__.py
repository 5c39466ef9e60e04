"""Alembic environment and versions of the veracity schema (run via ``veracity.store.migrate``)."""
