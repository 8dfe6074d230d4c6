import pytest


@pytest.fixture(autouse=True)
def _emails_leave_at_once(request):
    # tests/conftest.py: the account emails are in mail.outbox when the request returns. The
    # tests of the worker's own way commit (transactional) and leave this out.
    marker = request.node.get_closest_marker("django_db")
    if not (marker and marker.kwargs.get("transaction")):
        request.getfixturevalue("account_emails_at_once")
