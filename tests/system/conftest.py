"""Everything here runs real processes (gunicorn, a browser, the benchmark) and is marked
`system`: `pytest -m "not system"` leaves it out."""
import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/system/" in str(item.path):
            item.add_marker(pytest.mark.system)
