"""The ledger rules, one notification type at a time, through the service and the in-memory store."""

import json

import pytest
from envelopes import authorization, payin, refund, reversal, settlement

from demo.bank import service
from demo.bank.errors import InvalidWalletId, ReplayRefused, WalletNotFound
from demo.bank.ledger import Authorization, Balance, WalletState, decide, is_refused
from demo.bank.memory import InMemoryCardVault, InMemoryLedger
from demo.bank.notifications import parse, validate
from demo.bank.ports import ConcurrentUpdate


def apply_all(store, *envelopes):
    return [service.apply(store, parse(json.dumps(e).encode())) for e in envelopes]


def balance(store, wallet="w-1"):
    b = store.balance(wallet)
    return (b.current_balance, b.authorizations, b.authorized_balance)


@pytest.fixture
def store():
    return InMemoryLedger()


def test_a_payin_credits_the_current_balance(store):
    apply_all(store, payin("w-1", 10_000))
    assert balance(store) == (10_000, 0, 10_000)


def test_an_authorization_holds_without_moving_money(store):
    apply_all(store, payin("w-1", 10_000), authorization("w-1", "a-1", 1_250))
    assert balance(store) == (10_000, 1_250, 8_750)


def test_a_settlement_debits_and_releases_the_hold(store):
    apply_all(
        store, payin("w-1", 10_000), authorization("w-1", "a-1", 1_250), settlement("w-1", "a-1", 1_300)
    )
    assert balance(store) == (8_700, 0, 8_700)


def test_a_reversal_releases_the_hold(store):
    apply_all(store, payin("w-1", 10_000), authorization("w-1", "a-1", 1_250), reversal("w-1", "a-1"))
    assert balance(store) == (10_000, 0, 10_000)


def test_a_refund_credits_the_current_balance(store):
    apply_all(store, refund("w-1", 499))
    assert balance(store) == (499, 0, 499)


def test_a_settlement_before_its_authorization_leaves_no_hold(store):
    apply_all(store, settlement("w-1", "a-1", 1_250), authorization("w-1", "a-1", 1_250))
    assert balance(store) == (-1_250, 0, -1_250)


def test_a_reversal_before_its_authorization_leaves_no_hold(store):
    apply_all(store, reversal("w-1", "a-1"), authorization("w-1", "a-1", 1_250))
    assert balance(store) == (0, 0, 0)


def test_a_redelivered_notification_is_a_duplicate_and_changes_nothing(store):
    envelope = payin("w-1", 10_000)
    assert apply_all(store, envelope, envelope) == [service.Outcome.APPLIED, service.Outcome.DUPLICATE]
    assert balance(store) == (10_000, 0, 10_000)


def test_a_second_authorization_notice_for_the_same_hold_holds_once(store):
    apply_all(store, authorization("w-1", "a-1", 1_250), authorization("w-1", "a-1", 1_250))
    assert balance(store) == (0, 1_250, -1_250)


@pytest.mark.parametrize("amounts", [(1_000, 1_500), (1_500, 1_000)])
def test_notices_of_one_authorization_hold_the_largest_amount_in_any_order(store, amounts):
    apply_all(store, *(authorization("w-1", "a-1", a) for a in amounts))
    assert balance(store) == (0, 1_500, -1_500)


def test_two_settlements_of_one_authorization_both_debit(store):
    """Multiple clearing: each settlement is money leaving; the hold goes once."""
    apply_all(
        store,
        authorization("w-1", "a-1", 1_000),
        settlement("w-1", "a-1", 600),
        settlement("w-1", "a-1", 400),
    )
    assert balance(store) == (-1_000, 0, -1_000)


def test_wallets_are_independent(store):
    apply_all(store, payin("w-1", 100), payin("w-2", 200))
    assert balance(store, "w-1") == (100, 0, 100)
    assert balance(store, "w-2") == (200, 0, 200)


def test_decide_is_pure_and_states_the_authorizations_next_state():
    n = parse(json.dumps(authorization("w-1", "a-1", 700)).encode())
    entry = decide(n, None)
    assert entry.authorizations_delta == 700
    assert entry.authorization == Authorization("w-1", "a-1", authorized_amount=700, closed=False, version=0)


def test_the_balance_use_case_knows_unknown_and_invalid_wallets(store):
    with pytest.raises(WalletNotFound):
        service.balance(store, "w-404")
    with pytest.raises(InvalidWalletId):
        service.balance(store, "../w-1")
    apply_all(store, payin("w-1", 1))
    assert service.balance(store, "w-1") == Balance("w-1", 1, 0)


class FlakyStore(InMemoryLedger):
    """Loses the race a given number of times, as a concurrent writer would make it."""

    def __init__(self, conflicts):
        super().__init__()
        self.conflicts = conflicts

    def commit(self, entry, state, applied_at):
        if self.conflicts:
            self.conflicts -= 1
            raise ConcurrentUpdate("lost the race")
        return super().commit(entry, state, applied_at)


def test_a_concurrent_update_is_retried_from_a_fresh_read():
    store = FlakyStore(conflicts=3)
    apply_all(store, authorization("w-1", "a-1", 500))
    assert balance(store) == (0, 500, -500)


def test_endless_conflicts_give_up_instead_of_looping():
    store = FlakyStore(conflicts=100)
    with pytest.raises(ConcurrentUpdate, match="gave up"):
        apply_all(store, authorization("w-1", "a-1", 500))


def test_a_stale_authorization_version_is_refused_by_the_store(store):
    n = parse(json.dumps(authorization("w-1", "a-1", 500)).encode())
    assert store.commit(decide(n, None), WalletState(), applied_at=1).applied
    replay = decide(parse(json.dumps(reversal("w-1", "a-1")).encode()), None)  # read before the first commit
    with pytest.raises(ConcurrentUpdate):
        store.commit(
            replay, WalletState(store.balance("w-1")), applied_at=2
        )  # the wallet is current, not a-1


def test_a_stale_wallet_version_is_refused_by_the_store(store):
    first = parse(json.dumps(payin("w-1", 100)).encode())
    second = parse(json.dumps(payin("w-1", 50)).encode())
    read_before = store.read("w-1", None)
    store.commit(decide(first), read_before, applied_at=1)
    with pytest.raises(ConcurrentUpdate):
        store.commit(decide(second), read_before, applied_at=2)  # the balance moved since that read
    assert balance(store) == (100, 0, 100)


def test_each_commit_writes_the_balance_it_read_plus_the_entry_one_version_up(store):
    apply_all(store, payin("w-1", 100), authorization("w-1", "a-1", 30), payin("w-1", 5))
    assert store.balance("w-1").version == 3
    assert store.read("w-1", "a-1").authorization.version == 1


def test_a_duplicate_gets_back_what_its_first_delivery_committed_not_the_balance_of_now(store):
    first = parse(json.dumps(payin("w-1", 100)).encode())
    committed = service.commit(store, first, now=1_000)
    service.commit(store, parse(json.dumps(payin("w-1", 7)).encode()), now=2_000)
    again = service.commit(store, first, now=3_000)
    assert not again.applied
    assert (again.balance, again.applied_at, again.digest) == (committed.balance, 1_000, committed.digest)
    assert again.balance.current_balance == 100 and store.balance("w-1").current_balance == 107


# -- frozen wallets (step 3: a rejected review freezes the wallet) ------------------------------


def test_a_frozen_wallet_refuses_a_new_authorization_and_marks_it_refused():
    n = validate(authorization("w-1", "a-1", 500))
    entry = decide(n, None, frozen=True)
    assert entry.authorizations_delta == 0 and entry.current_delta == 0
    assert entry.authorization is not None and entry.authorization.refused
    assert is_refused(n, entry.authorization, frozen=True)


def test_a_frozen_wallet_refuses_to_raise_an_existing_hold_but_keeps_it():
    held = Authorization("w-1", "a-1", authorized_amount=500, version=1)
    n = validate(authorization("w-1", "a-1", 900))
    assert decide(n, held, frozen=True).authorizations_delta == 0
    assert is_refused(n, held, frozen=True)
    # the notice that made the hold, delivered again after the freeze, was not refused
    assert not is_refused(validate(authorization("w-1", "a-1", 500)), held, frozen=True)


def test_a_frozen_wallet_still_settles_and_reverses():
    held = Authorization("w-1", "a-1", authorized_amount=500, version=1)
    settled = decide(validate(settlement("w-1", "a-1", 480)), held, frozen=True)
    assert (settled.current_delta, settled.authorizations_delta) == (-480, -500)


class FreezesAfterTheRead(InMemoryLedger):
    """A review freezes the wallet between the worker's read and its commit, once."""

    def __init__(self):
        super().__init__()
        self.freeze_next_read = False

    def read(self, wallet_id, authorization_id):
        state = super().read(wallet_id, authorization_id)
        if self.freeze_next_read:
            self.freeze_next_read = False
            self.freeze(wallet_id)
        return state


def test_a_freeze_between_the_read_and_the_commit_is_seen_by_the_retry():
    store = FreezesAfterTheRead()
    service.apply(store, validate(payin("w-1", 1_000)))
    store.freeze_next_read = True
    assert service.apply(store, validate(authorization("w-1", "a-1", 500))) == service.Outcome.APPLIED
    assert store.balance("w-1") == Balance("w-1", 1_000, 0, frozen=True)  # no hold on a frozen wallet
    assert store.read("w-1", "a-1").authorization.refused


# -- replays (step 4): a notification id seen before, with another body -------------------------


def test_a_redelivery_is_a_duplicate_but_the_same_id_with_another_body_is_a_refused_replay():
    store = InMemoryLedger()
    original = payin("w-1", 100)
    assert service.apply(store, parse(json.dumps(original).encode())) == service.Outcome.APPLIED
    assert service.apply(store, parse(json.dumps(original).encode())) == service.Outcome.DUPLICATE
    tampered = {**original, "object_payload": {**original["object_payload"], "amount": 100_000}}
    with pytest.raises(ReplayRefused) as refused:
        service.apply(store, parse(json.dumps(tampered).encode()))
    assert refused.value.code == "replay_refused"
    assert store.balance("w-1").current_balance == 100


# -- cards (step 4): sealed by the vault, kept with the commit that applies their authorization ---


class KeyServiceDownOnce(InMemoryCardVault):
    def __init__(self, ledger):
        super().__init__(ledger)
        self.down = True

    def seal(self, wallet_id, authorization_id, card):
        if self.down:
            self.down = False
            raise ConnectionError("the key service is down")
        return super().seal(wallet_id, authorization_id, card)


def test_the_card_is_kept_in_the_commit_that_applies_its_authorization():
    store = InMemoryLedger()
    vault = InMemoryCardVault(store)
    service.commit(store, validate(authorization("w-1", "a-1", 500)), now=1, cards=vault)
    assert vault.reveal("w-1", "a-1").pan == "5488210000003691"
    assert store.cards[("w-1", "a-1")].masked_pan == "548821******3691"


def test_without_the_key_service_the_ledger_goes_on_and_the_redelivery_keeps_the_card():
    store = InMemoryLedger()
    vault = KeyServiceDownOnce(store)
    n = validate(authorization("w-1", "a-1", 500))
    with pytest.raises(ConnectionError):
        service.commit(store, n, now=1, cards=vault)
    assert balance(store) == (0, 500, -500)  # applied: the hold is taken
    assert vault.reveal("w-1", "a-1") is None  # the card waits, never kept in clear meanwhile
    again = service.commit(store, n, now=2, cards=vault)  # the redelivery
    assert not again.applied and balance(store) == (0, 500, -500)
    assert vault.reveal("w-1", "a-1").holder == "ALEX OAK"
