"""Shipping to AWS, and operating what ships: the template, the package, the deployment, the bill.

- ``cfn``: CloudFormation templates as data (read, merged, made deployable);
- ``shipping``: ``chalice package`` plus our resources into one SAM template and a zip;
- ``deploy``: one stage deployed and destroyed in boto3, with a plan first;
- ``costs``: what a workflow and a month cost, from ``prices.yaml`` (each price with its source);
- ``queues``: the queues' depths and redrive, on AWS and on the local cloud alike.

It may import ``demo.settings`` only: the local cloud builds on it (it deploys the same template),
never the other way round.
"""
