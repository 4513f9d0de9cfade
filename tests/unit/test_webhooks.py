import json

from envelopes import authorization, payin, reversal

from demo.bank.events import BALANCE_UPDATED, event_id
from demo.bank.ledger import Balance
from demo.bank.notifications import parse
from demo.bank.webhooks import BALANCE_UPDATE, CARDTRANSACTION_UPDATE, client_webhooks


def note(envelope):
    return parse(json.dumps(envelope).encode())


def test_a_payin_tells_the_client_its_new_balance():
    n = note(payin("w-1", 500))
    [webhook] = client_webhooks(n, Balance("w-1", 500, 0), created_at=1)
    assert webhook["webhook"] == BALANCE_UPDATE
    assert webhook["object_payload"]["authorized_balance"] == 500


def test_a_card_notification_tells_the_transaction_then_the_balance():
    n = note(authorization("w-1", "a-1", 1_250))
    transaction, balance = client_webhooks(n, Balance("w-1", 0, 1_250), created_at=1)
    assert transaction["webhook"] == CARDTRANSACTION_UPDATE
    assert transaction["object_payload"]["status"] == "authorized"
    assert transaction["object_id"] == n.object_id
    assert balance["webhook"] == BALANCE_UPDATE


def test_webhook_ids_are_stable_per_notification_and_type():
    n = note(reversal("w-1", "a-1"))
    first = client_webhooks(n, Balance("w-1", 0, 0), created_at=1)
    again = client_webhooks(n, Balance("w-1", 0, 0), created_at=99)
    assert [w["webhook_id"] for w in first] == [w["webhook_id"] for w in again]
    assert first[0]["webhook_id"] != first[1]["webhook_id"]
    assert first[1]["webhook_id"] == event_id(n.notification_id, BALANCE_UPDATED)


def test_webhooks_carry_no_card_number_nor_holder():
    n = note(authorization("w-1", "a-1", 1_250))
    text = json.dumps(client_webhooks(n, Balance("w-1", 0, 1_250), created_at=1))
    assert "5488210000003691" not in text
    assert "ALEX OAK" not in text
