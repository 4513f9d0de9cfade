"""The workshop's surfaces: the presenter's tour, the slides, the figures shown everywhere.

- ``stage``: the system a tour runs against (a running ``bankdemo up``, or one it starts);
- ``reset``: a running system put back to a clean state in seconds (``bankdemo reset``);
- ``tour`` and ``beats``: the live demo, beat by beat (``bankdemo tour``);
- ``report``, ``cost_report``, ``performance_report`` and ``markers``: the Markdown tables and plots
  of the notebooks, the docs and the slides (resilience, costs, measured runs), and the markers
  that stand for them in the pages;
- ``slides``: the deck, its figures drawn from the result files;
- ``lab``: the set-up every notebook starts with.

It stands on ``demo.operations`` (the same operations the command line uses) and everything
below it; nothing imports it but the command line, the notebooks and the docs' hooks.
"""
