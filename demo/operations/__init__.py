"""The operations on a running system that the command line and the presenter's tour share.

- ``output``: the console they print to, and ``fail`` (an operation that cannot be done says why
  and exits with a code; the tour counts it as a failed beat);
- ``system``: the serverless system worked from outside: its signing secret, ``status``, ``redrive``;
- ``chaos``: faults on cue, in the local cloud, the fintech client and the monolith;
- ``monolith``: the running monolith's status and faults;
- ``reviews``: the compliance reviews listed, shown with their workflow's history, decided;
- ``tables``: the tables both print (queues, balances against the oracle, the scorecard).

``demo.cli`` gives each a command and its options; ``demo.workshop.tour`` calls them in its beats.
These modules know nothing of either: they take plain values, print with rich, and may import
the parties, the local cloud's session, ``demo.aws.queues``, the resilience scenarios and the domain.
"""
