"""The workshop's surfaces: the presenter's tour, the slides, the figures shown everywhere.

- ``stage``: the system a tour runs against (a running ``bankdemo up``, or one it starts);
- ``reset``: a running system put back to a clean state in seconds (``bankdemo reset``);
- ``tour`` and ``beats``: the live demo, beat by beat (``bankdemo tour``);
- ``report``: Markdown tables and plots for the notebooks, the docs and the slides;
- ``slides``: the deck, its figures drawn from the result files;
- ``lab``: the set-up every notebook starts with.

It stands on ``demo.operations`` (the same operations the command line uses) and everything
below it; nothing imports it but the command line, the notebooks and the docs' hooks.
"""
