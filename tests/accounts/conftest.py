import pytest

from stockflow.accounts import emails


@pytest.fixture(autouse=True)
def _emails_leave_at_once(monkeypatch):
    # Account emails are sent after commit; a test runs inside one transaction that never
    # commits, and each service sends its email as its last step.
    monkeypatch.setattr(emails, "on_commit", lambda callback: callback())
