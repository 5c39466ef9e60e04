"""The API and page tests that read or write the database, again on PostgreSQL.

The tests are imported from test_api.py and test_pages.py and collected here a second
time with this module's ``settings``: a new PostgreSQL schema per test (skipped without
``VERACITY_TEST_POSTGRES_URL``, failing when ``VERACITY_TEST_REQUIRE_POSTGRES=1``). The
rate-limit and API-key tests (test_auth.py) run on both backends themselves.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_api import (
    test_batch,
    test_check_returns_the_verdict_and_stores_it,
    test_control_characters_in_texts_are_422_and_nothing_is_stored,
    test_feedback,
    test_health_and_readiness,
    test_list_checks_pages_and_filters,
    test_search_for_a_control_character_is_422_not_everything,
    test_search_wildcards_are_literal,
    test_startup_migrates_the_database,
    test_unknown_check_is_404_problem,
)
from test_pages import (
    test_feedback_buttons_record_and_show_in_history,
    test_history_filters_by_verdict,
    test_unknown_check_page_is_404_html,
)

from backends import fresh_postgres_schema
from veracity.settings import Settings

__all__ = [
    "test_batch",
    "test_check_returns_the_verdict_and_stores_it",
    "test_control_characters_in_texts_are_422_and_nothing_is_stored",
    "test_feedback",
    "test_feedback_buttons_record_and_show_in_history",
    "test_health_and_readiness",
    "test_history_filters_by_verdict",
    "test_list_checks_pages_and_filters",
    "test_search_for_a_control_character_is_422_not_everything",
    "test_search_wildcards_are_literal",
    "test_startup_migrates_the_database",
    "test_unknown_check_is_404_problem",
    "test_unknown_check_page_is_404_html",
]


@pytest.fixture
def settings(postgres_admin_url: str) -> Iterator[Settings]:
    """The app's settings on a new PostgreSQL schema (the ``client`` fixture uses them)."""
    with fresh_postgres_schema(postgres_admin_url) as url:
        yield Settings(database_url=url)
