import json

from envelopes import authorization, payin

from demo.aws.queues import redrive
from demo.bank import service
from demo.bank.events import BALANCE_UPDATED, CARD_TRANSACTION_UPDATED, DomainEvent, event_id
from demo.bank.memory import InMemoryLedger, InMemoryPublisher
from demo.bank.notifications import parse


def note(envelope):
    return parse(json.dumps(envelope).encode())


def test_apply_and_publish_publishes_again_for_a_duplicate_with_the_same_ids():
    store, publisher = InMemoryLedger(), InMemoryPublisher()
    n = note(authorization("w-1", "a-1", 700))
    first = service.apply_and_publish(store, publisher, n, now=1)
    again = service.apply_and_publish(store, publisher, n, now=2)
    assert (first, again) == (service.Outcome.APPLIED, service.Outcome.DUPLICATE)
    ids = [e.event_id for e in publisher.events]
    assert ids[:2] == ids[2:]
    assert ids[:2] == [
        event_id(n.notification_id, CARD_TRANSACTION_UPDATED),
        event_id(n.notification_id, BALANCE_UPDATED),
    ]
    assert store.balance("w-1").authorizations == 700


def test_a_redelivery_publishes_the_very_events_of_the_first_delivery_even_after_other_notifications():
    store, publisher = InMemoryLedger(), InMemoryPublisher()
    n = note(authorization("w-1", "a-1", 700))
    service.apply_and_publish(store, publisher, n, now=1)
    first = [e.to_detail() for e in publisher.events]
    service.apply_and_publish(
        store, InMemoryPublisher(), note(payin("w-1", 50)), now=2
    )  # the balance moves on
    publisher.events.clear()
    service.apply_and_publish(store, publisher, n, now=3)  # the redelivery, later
    assert [e.to_detail() for e in publisher.events] == first  # same ids, same balance, same time


def test_a_payin_publishes_only_the_balance():
    publisher = InMemoryPublisher()
    service.apply_and_publish(InMemoryLedger(), publisher, note(payin("w-1", 5)), now=1)
    assert [e.type for e in publisher.events] == [BALANCE_UPDATED]
    assert publisher.events[0].payload["current_balance"] == 5


def test_an_event_survives_its_json_detail():
    publisher = InMemoryPublisher()
    service.apply_and_publish(InMemoryLedger(), publisher, note(authorization("w-1", "a-1", 9)), now=1)
    for event in publisher.events:
        assert DomainEvent.from_detail(json.loads(json.dumps(event.to_detail()))) == event


class FakeSqs:
    def __init__(self):
        self.calls = []

    def get_queue_url(self, QueueName):
        return {"QueueUrl": f"https://sqs/{QueueName}"}

    def get_queue_attributes(self, QueueUrl, AttributeNames):
        name = QueueUrl.rsplit("/", 1)[-1]
        return {
            "Attributes": {"QueueArn": f"arn:aws:sqs:eu-west-1:1:{name}", "ApproximateNumberOfMessages": "3"}
        }

    def start_message_move_task(self, **kwargs):
        self.calls.append(kwargs)


def test_on_aws_the_redrive_is_sqs_own_move_task():
    sqs = FakeSqs()
    assert redrive(sqs, "bank-webhooks", use_move_task=True) == 3
    assert sqs.calls == [
        {
            "SourceArn": "arn:aws:sqs:eu-west-1:1:bank-webhooks-dlq",
            "DestinationArn": "arn:aws:sqs:eu-west-1:1:bank-webhooks",
        }
    ]
