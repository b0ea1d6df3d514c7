"""Every admin page at length (tests/page_inputs.py): each hostile value in each path argument
and each query parameter the page reads, then many generated combinations; never a failure."""
from page_inputs import check_every_hostile_value, check_generated, directory, pages_of  # noqa: F401
from status_helpers import admin  # noqa: F401 (fixture)


def test_no_page_fails_on_any_hostile_value(app, directory, admin):
    check_every_hostile_value(pages_of(app, admin, directory), admin)


def test_no_page_fails_on_many_generated_paths_and_query_strings(app, directory, admin):
    check_generated(pages_of(app, admin, directory), admin, max_examples=1000)
