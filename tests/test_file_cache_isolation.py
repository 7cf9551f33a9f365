"""The embedded default's file cache is emptied before every test (tests/conftest.py): Django's
file cache culls a random third of its entries at 300, so entries left by earlier tests would make
a test's own entries vanish at random."""

import pytest
from django.core.cache import caches
from django.core.cache.backends.filebased import FileBasedCache

from tests.conftest import empty_file_caches


@pytest.fixture
def file_cache(settings, tmp_path):
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(tmp_path)},
    }
    assert isinstance(caches["default"], FileBasedCache)
    return caches["default"]


def test_given_a_file_cache_holding_entries_when_emptied_before_a_test_then_it_holds_none(file_cache):
    for number in range(5):
        file_cache.set(f"left-by-an-earlier-test-{number}", number)
    assert len(file_cache._list_cache_files()) == 5

    empty_file_caches()

    assert file_cache._list_cache_files() == []
