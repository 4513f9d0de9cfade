"""The resilience experiment (step 5): one fault schedule thrown at both systems, and the scorecard.

- ``scenarios``: the fault schedules, the oracle and the scorecard's rows;
- ``compare``: runs both systems side by side on the same seeded stream (``bankdemo compare``).

It may import the bank's domain, the parties, the monolith, the local cloud and ``demo.aws.queues``;
nothing of the workshop surfaces or the command line.
"""
