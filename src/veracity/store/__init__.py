"""Storage of checks and feedback: SQLAlchemy models, repository functions, migrations.

The store knows nothing of HTTP. The schema is created only by the Alembic migrations
(:func:`veracity.store.migrate.upgrade`); SQLite is the default, any SQLAlchemy URL works.

Needs SQLAlchemy and Alembic, which come with the ``serve`` extra: importing this package
without them raises :class:`~veracity.errors.MissingExtraError`.
"""

from veracity._extras import require

require("serve", "veracity.store", modules=("sqlalchemy", "alembic"))
