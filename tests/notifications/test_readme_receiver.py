"""The receiver of the README, run as written against a real delivery."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from standardwebhooks.webhooks import WebhookVerificationError

from stockflow.inventory import sales as inventory
from stockflow.notifications import services
from tests.notifications.receiver import Receiver, work_until

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_receiver() -> str:
    text = README.read_text()
    match = re.search(r"<!-- receiver-example -->\n```python\n(.*?)```", text, re.DOTALL)
    assert match, "the README has no receiver example"
    return match.group(1)


@pytest.mark.django_db(transaction=True)
def test_the_readme_receiver_verifies_a_real_delivery(shop, monkeypatch, capsys):
    receiver = Receiver().start()
    try:
        endpoint = services.create_endpoint(
            company_id=shop.company.id, url=receiver.url, events=["stock.low"]
        )
        inventory.record_sale(product=shop.mug, warehouse=shop.main, quantity=85)
        work_until(lambda: len(receiver.received) == 1)
    finally:
        receiver.stop()
    (request,) = receiver.received

    monkeypatch.setenv("STOCKFLOW_WEBHOOK_SECRET", endpoint.secret)
    namespace: dict = {}
    exec(compile(readme_receiver(), "README.md", "exec"), namespace)
    event = namespace["receive"](request.body, request.headers)
    assert event["type"] == "stock.low"
    assert f"MUG in warehouse {shop.main.id}: 15 left" in capsys.readouterr().out
    with pytest.raises(WebhookVerificationError):
        namespace["receive"](request.body + b" ", request.headers)
