"""The parties outside the bank: the card processor that notifies it, the fintech client it notifies.

- ``processor``: a seeded stream of signed payment notifications, and the balances it should leave;
- ``client``: the processor's side of the wire (``BankApi``: send notifications, read balances);
- ``fintech``: the bank's customer, a webhook receiver that verifies, deduplicates and logs.

They speak to either bank (monolith or serverless) over HTTP only. They may import ``demo.bank``
(the signature, the notification shapes) and ``demo.settings``; nothing else of the demo.
"""
