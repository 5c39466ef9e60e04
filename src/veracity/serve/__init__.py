"""The HTTP service: a JSON API under ``/v1`` and a small accessible web page.

Build it with :func:`veracity.serve.app.create_app`; run it with ``veracity serve``.

Needs the ``serve`` extra: importing this package without it raises
:class:`~veracity.errors.MissingExtraError` (``pip install "veracity[serve]"``).
"""

from veracity._extras import require

require("serve", "veracity.serve")
