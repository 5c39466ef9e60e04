"""The HTTP service: a JSON API under ``/v1`` and a small accessible web page.

Build it with :func:`veracity.serve.app.create_app`; run it with ``veracity serve``.
"""
