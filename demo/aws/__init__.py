"""Shipping to AWS, and operating what ships: the template, the package, the deployment, the bill.

- ``cfn``: CloudFormation templates as data (read, merged, made deployable);
- ``shipping``: ``chalice package`` plus our resources into one SAM template and a zip;
- ``preflight`` and ``deploy``: one stage deployed and destroyed in boto3: the credentials checked,
  the artefacts built and the plan made first (``preflight``), then the changes (``deploy``);
- ``costs``, ``usage`` and ``workflow_costs``: what a month costs, serverless against always-on
  (from ``prices.yaml``, each price with its source, and the month's usage), and what the review
  workflow costs per execution;
- ``queues``: the queues' depths and redrive, on AWS and on the local cloud alike.

It may import ``demo.settings`` only: the local cloud builds on it (it deploys the same template),
never the other way round.
"""
