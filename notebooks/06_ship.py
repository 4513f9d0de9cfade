# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Step 6: shipping to AWS
#
# The bank leaves the laptop. `make package`, `make deploy` and `make destroy` take the same
# code and the same template to a real AWS account, and back out. This notebook runs everything
# that can run without an account: it packages the `dev` stage, prints the plan `bankdemo
# deploy` would ask you to confirm, names what to watch once it is deployed and what a destroy
# leaves behind, then prices a month of the bank against the always-on "before", and shows the
# performance measured on this machine. It never calls AWS.
#
# ## Before you start
#
# For a real deploy (not needed here): an AWS account of your own (a sandbox), credentials as
# the AWS CLI finds them (`aws configure`, `aws sso login`, `AWS_PROFILE`...), a region, the
# deploying user's policy of `docs/deployer-policy.json`, and `AWS_ENDPOINT_URL` unset. The
# step 6 page of the docs site has the details.
#
# ## Package
#
# `bankdemo package --stage dev` (`make package`) runs `chalice package` in a build copy of the
# project and writes two files: the SAM template, with `resources.yaml` merged in, and the
# deployment zip that every function runs. `demo.aws.preflight.build` is what it calls; we package into
# a temporary folder.

# %%
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

from IPython.display import Markdown, display

from demo.aws import deploy, preflight

STAGE = "dev"
workdir = tempfile.TemporaryDirectory(prefix="bank-ship-")
artefacts = preflight.build(STAGE, Path(workdir.name) / STAGE)
template = artefacts.template()

zip_bytes = artefacts.zip_path.stat().st_size
print(f"template  {artefacts.template_path.name}: {artefacts.template_path.stat().st_size:,} bytes")
print(f"zip       {artefacts.zip_path.name}: {zip_bytes / 1e6:.2f} MB ({zip_bytes:,} bytes)")
assert template["Parameters"]["Stage"]["Default"] == STAGE

with zipfile.ZipFile(artefacts.zip_path) as archive:
    tops = Counter()
    for info in archive.infolist():
        tops[info.filename.split("/", 1)[0]] += info.file_size
print(
    "what the zip holds, unzipped:",
    ", ".join(f"{name} {size / 1e6:.2f} MB" for name, size in tops.most_common(6)),
)

# %% [markdown]
# The template's resources, by type. The `AWS::Serverless::*` ones are SAM's: on AWS the SAM
# transform expands each function into a Lambda function, its event source mappings and
# permissions, and the API into a REST API, its deployment and its stage.

# %%
counts = preflight.resource_counts(template)
rows = ["| type | count |", "|---|--:|"] + [f"| {kind} | {count} |" for kind, count in counts.items()]
display(Markdown("\n".join(rows) + f"\n\n**{sum(counts.values())} resources** in the template."))

# %% [markdown]
# Each function has a role of its own, with the inline policy of
# `.chalice/policy-<function>.json` (step 4): its statements, and how many
# actions they grant.


# %%
def as_list(value):
    return value if isinstance(value, list) else [value]


resources = template["Resources"]
functions = {name: r for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
rows = ["| function (handler) | its role | its policy |", "|---|---|---|"]
sids = {}
for name, function in sorted(functions.items()):
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = [
        statement
        for policy in resources[role]["Properties"]["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]
    actions = {action for statement in statements for action in as_list(statement["Action"])}
    sids[name] = [statement.get("Sid", "?") for statement in statements]
    handler = function["Properties"]["Handler"]
    rows.append(f"| {name} ({handler}) | {role} | {len(statements)} statements, {len(actions)} actions |")
display(Markdown("\n".join(rows)))
roles = [f["Properties"]["Role"]["Fn::GetAtt"][0] for f in functions.values()]
assert len(set(roles)) == len(functions), "one role per function"
print("the statements of ApplyNotificationsRole, the worker's:")
print("\n".join(f"  {sid}" for sid in sids["ApplyNotifications"]))

# %% [markdown]
# ## The plan
#
# `bankdemo deploy --stage dev` (`make deploy`) does nothing before it knows who you are: its
# first AWS call is `sts:GetCallerIdentity`, which needs no permission and fails only for
# missing, expired or refused credentials. Then it packages, and prints the plan: the account,
# the region, the stack, the deploy bucket, the secrets, every resource, and what a month
# costs. Then it asks `Deploy stack bank-dev to account ... in ...? [y/N]`: anything but `y`
# stops with "nothing was created" (`--yes` answers for you, in a pipeline).
#
# The plan needs the identity only; here is the one for a made-up account (no AWS call):

# %%
identity = preflight.Identity(
    account="123456789012", arn="arn:aws:iam::123456789012:user/deployer", region="eu-west-1"
)
plan = preflight.make_plan(identity, STAGE, template, notifications_per_month=100_000)
print(f"account   {identity.account} ({identity.arn})")
print(f"region    {identity.region}")
print(f"stack     {plan.stack} (created, or updated if it exists)")
print(f"bucket    {plan.bucket} (the zip and the template go there)")
print(f"secrets   {', '.join(preflight.secret_parameters(STAGE).values())} (SecureStrings)")
print(f"parameters {plan.parameters}")
by_type = {}
for logical_id, kind in plan.resources:
    by_type.setdefault(kind, []).append(logical_id)
rows = ["| type | logical ids |", "|---|---|"]
rows += [f"| {kind} | {', '.join(ids)} |" for kind, ids in by_type.items()]
display(Markdown("\n".join(rows)))
print(plan.cost)
assert len(plan.resources) == sum(counts.values())

# %% [markdown]
# Without credentials the deploy stops at the first check. We show it by emptying, for one
# call, everything boto3 looks at for credentials (the environment, the config files, the
# instance metadata), then putting it all back:

# %%
import contextlib
import os


@contextlib.contextmanager
def no_aws_credentials():
    """No AWS_* variable, empty config files, no instance metadata; the environment restored after."""
    saved = {name: value for name, value in os.environ.items() if name.startswith("AWS_")}
    with tempfile.NamedTemporaryFile("w", suffix=".ini") as empty:
        for name in saved:
            del os.environ[name]
        os.environ.update(
            AWS_CONFIG_FILE=empty.name,
            AWS_SHARED_CREDENTIALS_FILE=empty.name,
            AWS_EC2_METADATA_DISABLED="true",
        )
        try:
            yield
        finally:
            for name in [name for name in os.environ if name.startswith("AWS_")]:
                del os.environ[name]
            os.environ.update(saved)


with no_aws_credentials():
    try:
        preflight.check_credentials(preflight.open_session("eu-west-1"))
        refusal = None
    except preflight.DeployError as error:
        refusal = str(error)
print(refusal)
assert refusal and refusal.startswith("no AWS credentials found")

# %% [markdown]
# `bankdemo deploy` prints that, then "Nothing was created.", and exits with 1. With
# credentials, and a `y`, it uploads the zip and the template to the deploy bucket, creates or
# updates the stack with CloudFormation and prints its events until it completes, then puts the
# two signing secrets in SSM as SecureStrings under the stack's key. None of that runs here: it
# was tested against stubbed clients and against moto (`tests/unit/test_deploy.py`), never
# against a real account.
#
# ## Observe
#
# Once deployed, `deploy` prints the stack's outputs. Their names, and what each resolves to on
# AWS:

# %%
import json


def shown(value):
    """A template value, as it reads: `Ref`, `Fn::GetAtt`, `Fn::Sub` with the stage filled in."""
    if isinstance(value, str):
        return value.replace("${Stage}", STAGE)
    if isinstance(value, dict) and "Ref" in value:
        return f"Ref {value['Ref']}"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return "GetAtt " + ".".join(value["Fn::GetAtt"])
    if isinstance(value, dict) and "Fn::Sub" in value:
        return shown(value["Fn::Sub"])
    return json.dumps(value)


rows = ["| output | value on AWS |", "|---|---|"]
rows += [f"| `{name}` | `{shown(output['Value'])}` |" for name, output in sorted(template["Outputs"].items())]
display(Markdown("\n".join(rows)))

# %% [markdown]
# `EndpointURL` is where the card processor sends its notifications. Send some yourself, with
# the signing secret the deploy stored (read back from SSM):
#
# ```bash
# bankdemo send --api https://<api-id>.execute-api.eu-west-1.amazonaws.com/api/ --count 20 \
#   --secret "$(aws ssm get-parameter --name /bank/dev/processor-signing-secret \
#   --with-decryption --query Parameter.Value --output text)"
# ```
#
# Read a balance or the reviews the same way: on AWS those routes take only requests signed by an
# IAM principal allowed to call them (`execute-api:Invoke`), and `bankdemo` signs them with your
# AWS credentials when `--api` is the API on AWS (`bankdemo balance w-1 --api https://...`).
#
# Then watch, from the template: each function's log group (the app logs JSON at WARNING and
# above, so a quiet log is a good sign; Lambda's own `REPORT` lines give the durations), and the
# dead-letter queues, which should stay empty; a message there is a notification or a webhook
# that failed every retry (step 2 redrives them).

# %%
log_groups = {name: r["Properties"] for name, r in resources.items() if r["Type"] == "AWS::Logs::LogGroup"}
rows = ["| log group | kept |", "|---|--:|"]
for properties in log_groups.values():
    rows.append(
        f"| {shown(properties['LogGroupName'])} | {properties.get('RetentionInDays', 'forever')} days |"
    )
display(Markdown("\n".join(rows)))
print(f"to follow one: aws logs tail {shown(next(iter(log_groups.values()))['LogGroupName'])} --follow")

queues = {name: r["Properties"] for name, r in resources.items() if r["Type"] == "AWS::SQS::Queue"}
rows = ["| queue | its dead-letter queue | moved there after |", "|---|---|---|"]
for properties in sorted(queues.values(), key=lambda properties: properties["QueueName"]):
    redrive = properties.get("RedrivePolicy")
    if not redrive:
        continue
    dlq = queues[redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]]["QueueName"]
    count = redrive["maxReceiveCount"]
    if isinstance(count, dict):  # a template parameter: its default
        count = template["Parameters"][count["Ref"]]["Default"]
    rows.append(f"| `{properties['QueueName']}` | `{dlq}` | {count} receives |")
display(Markdown("\n".join(rows)))
print(
    "depth of a dead-letter queue: aws sqs get-queue-attributes --queue-url <its URL> "
    "--attribute-names ApproximateNumberOfMessages"
)

# %% [markdown]
# ## Destroy
#
# `bankdemo destroy --stage dev` (`make destroy`) checks the credentials the same way, lists the
# stack's resources, asks, deletes the stack, the SecureStrings and (a second question) the
# stage's uploads, then looks for what is left and prints how to remove each. What it will find
# can be read off the template before anything is deployed:

# %%
region = f" --region {identity.region}"


def code(text):
    return f"`{text}`"


checklist = []  # (what may be left, what to do about it), in Markdown
retained = {
    name: r["DeletionPolicy"] for name, r in resources.items() if r.get("DeletionPolicy") in deploy.KEPT
}
for name, policy in retained.items():
    kind = resources[name]["Type"]
    command = deploy.REMOVE.get(kind, "delete it in the console").format(name=f"<{name}'s physical id>")
    checklist.append(
        (f"{code(kind)} {name}, DeletionPolicy {policy}: {deploy.KEPT[policy]}", code(command + region))
    )
for name, r in resources.items():
    if r["Type"] == "AWS::KMS::Key":
        checklist.append(
            (
                f"{code(r['Type'])} {name}: pending deletion (CloudFormation schedules it, 30 days by default)",
                "nothing: " + code("aws kms cancel-key-deletion") + " would keep it",
            )
        )
prefix = f"/aws/lambda/{preflight.APP}-{STAGE}-"
checklist.append(
    (
        f"log groups {code(prefix + '*')}: the stack deletes its {len(log_groups)}; Lambda makes a new one, "
        "kept forever, for a function that logs after its group is gone",
        code("aws logs delete-log-group --log-group-name <name>" + region),
    )
)
parameters = [
    shown(r["Properties"]["Name"]) for r in resources.values() if r["Type"] == "AWS::SSM::Parameter"
]
secure = [
    *preflight.secret_parameters(STAGE).values(),
    preflight.secret_parameters(STAGE)["signing"] + deploy.PREVIOUS_SUFFIX,
]
checklist.append(
    (
        f"SSM parameters {code(f'/{preflight.APP}/{STAGE}/*')}: {', '.join(map(code, parameters))} goes with "
        f"the stack; `destroy` deletes {', '.join(map(code, secure))}",
        code("aws ssm delete-parameter --name <name>" + region),
    )
)
bucket = preflight.bucket_name(identity.account, identity.region)
checklist.append(
    (
        f"the deploy bucket {code(bucket)}, shared by the stages of the account and region "
        "(`destroy` empties the stage's folder when you say so)",
        code(f"aws s3 rb s3://{bucket} --force{region}") + ", once the last stage is gone",
    )
)
rows = ["| what may be left | to remove it |", "|---|---|"] + [
    f"| {what} | {how} |" for what, how in checklist
]
display(Markdown("\n".join(rows)))
print("resources the template retains:", ", ".join(retained) or "none")

# %% [markdown]
# ## Cost
#
# A month of the serverless bank, priced line by line, against the monolith of step 0 kept
# running on EC2 with its RabbitMQ (on EC2, or managed by Amazon MQ). Everything comes from the
# real code:
#
# - **prices**: `demo/aws/prices.yaml`, each service with its source and the date it was read
#   (us-east-1, USD);
# - **what one notification does**: `demo.aws.usage.PER_NOTIFICATION` and its neighbours, counted in
#   `app.py`, `chalicelib/` and `resources.yaml` (a unit test checks them against the code);
# - **what cannot be read off the code** (durations, batch sizes, the monolith's throughput):
#   `demo.aws.usage.Assumptions`, each value with its reason.
#
# Free tiers are left out: this is a business comparison (`free_tier=True` takes them off).

# %%
from IPython.display import Markdown, display

from demo.aws import costs, usage


def markdown_table(month):
    """One month's line items as a Markdown table, then its total."""
    rows = ["| service | item | quantity | $ / month |", "|---|---|--:|--:|"]
    for line in month.lines:
        quantity = f"{line.quantity:,.0f}" if line.quantity >= 100 else f"{line.quantity:,.2f}"
        rows.append(f"| {line.service} | {line.item} | {quantity} {line.unit} | {line.cost:,.2f} |")
    rows.append(f"| | **total** | | **{month.total:,.2f}** |")
    return f"**{month.label}**, {month.notifications:,} notifications a month\n\n" + "\n".join(rows)


N = 10**6
serverless = costs.serverless_monthly(N)
always_on = costs.always_on_monthly(N, "self-hosted")
display(Markdown(markdown_table(serverless)))
display(Markdown(markdown_table(always_on)))
print(f"serverless / always-on at {N:,} a month: {serverless.total / always_on.total:.2f}")

# %% [markdown]
# The always-on month hardly moves with the traffic: two app servers (for availability), a load
# balancer, a broker. The serverless month is almost all per-notification. So there is a volume
# where they meet: the **break-even**. Below it serverless is cheaper; above it, the always-on
# fleet is, until it has to grow (one more instance per ~44 million notifications a month, with
# the assumptions above).

# %%
# %matplotlib inline
from demo.workshop import cost_report

break_evens = cost_report.break_evens()
assert len(break_evens) == len(cost_report.COST_OPTIONS), (
    "every always-on option meets the serverless curve once"
)
for label, point in break_evens:
    print(f"{label}: {point.notifications:,} a month, ${point.always_on:,.2f}")
cost_report.costs_figure()

# %% [markdown]
# Three RabbitMQ nodes on EC2 cost about what one Amazon MQ broker does (the dotted and the solid
# green lines nearly coincide): the managed broker's premium buys the operations, not capacity.
# The steps on the right are the monolith's fleet growing, one m5.large at a time.
#
# ## What dominates
#
# Read off the breakdown, not guessed: the largest service on the serverless bill, and the line
# inside it, at a million notifications a month and at the top of the range.


# %%
def dominant(month):
    service, dollars = next(iter(month.by_service().items()))
    top = max((line for line in month.lines if line.service == service), key=lambda line: line.cost)
    return service, dollars / month.total, top, top.cost / month.total


for n in (10**6, 10**9):
    month = costs.serverless_monthly(n)
    service, share, top, top_share = dominant(month)
    print(
        f"{n:>13,} a month: {service} is {share:.0%} of ${month.total:,.2f}; "
        f"its '{top.item}' alone {top_share:.0%} ({top.quantity / n:.2f} {top.unit} a notification)"
    )

counts = usage.mixed_counts()
transactions = counts["transaction_items"] * costs.prices()["dynamodb"]["transactional_write_units_per_item"]
fan_out = counts["events"] * usage.PER_EVENT["audit_puts"]
display(
    Markdown(
        f"Each notification writes **{transactions:.2f} WRU** in its ledger transaction (a transactional "
        f"write costs twice a plain one) and **{fan_out:.2f} WRU** more for its {counts['events']:.2f} "
        f"events (an audit item each; the dispatcher counts a batch's webhooks in one write): the idempotent ledger and the audit "
        "trail, not the compute, are what a notification costs. Lambda, the thing the migration is "
        f"named after, is {costs.serverless_monthly(10**6).by_service()['Lambda'] / costs.serverless_monthly(10**6).total:.0%} "
        "of the bill."
    )
)


# %% [markdown]
# ## Performance
#
# `benchmarks/performance.py` measures, on this machine: the cold start (the import of the
# Lambda entry module, in fresh interpreters, next to bare `import boto3`), the zip's size, the
# latency of both systems to the same calm stream, and the throughput of each alone. It writes
# `benchmarks/results/performance.json`; we read that file, wherever the notebook runs from.
#
# Read it for what it is: the local cloud serves one AWS request at a time, on the laptop that
# also runs the monolith and the client. Its latency and throughput describe the laptop, not
# AWS, where Lambda, SQS and DynamoDB run in parallel.

# %%
from demo import settings
from demo.workshop import performance_report


def find_results(name):
    """benchmarks/results/<name> in the repository: up from here, or from the demo package."""
    for folder in [Path.cwd(), *Path.cwd().parents, settings.SERVERLESS_PROJECT.parents[1]]:
        path = folder / "benchmarks" / "results" / name
        if path.is_file():
            return path
    raise FileNotFoundError(f"no benchmarks/results/{name} above {Path.cwd()}")


performance = json.loads(find_results("performance.json").read_text())
display(Markdown(performance_report.performance_markdown(performance)))

# %%
performance_report.performance_figure(performance)

# %% [markdown]
# ## Your turn
#
# Two prices change; where does the first break-even with the monolith (RabbitMQ on EC2, one
# node) go? Guess before you compute: the "what dominates" figures above tell which of the two
# can move it far. `costs.break_even("self-hosted")` answers it today; every exercise takes
# under a second.
#
# **1. DynamoDB's writes at half price.** (AWS cut DynamoDB's on-demand prices in November 2024;
# the prices here are those after that cut.) The cost model reads its prices from
# `demo/aws/prices.yaml` through `costs.prices()`, which hands back the same dictionary each
# time: change `per_write_request_unit` in it, compute, and put the old price back
# (`try`/`finally`), or every later figure of this kernel is off.

# %% tags=["exercise"]
break_even_half_price = ...  # notifications a month

# %% tags=["check"]
import yourturn

yourturn.check_step6_write_price(break_even_half_price)

# %% [markdown] tags=["solution"]
# <details><summary>Show a solution</summary>
#
# ```python
# dynamodb_prices = costs.prices()["dynamodb"]
# today = dynamodb_prices["per_write_request_unit"]
# dynamodb_prices["per_write_request_unit"] = today / 2
# try:
#     break_even_half_price = costs.break_even("self-hosted").notifications
# finally:
#     dynamodb_prices["per_write_request_unit"] = today
# print(f"{break_even_half_price:,} notifications a month")
# ```
#
# </details>

# %% [markdown]
# **2. The functions on Graviton.** Chalice deploys x86 functions unless told otherwise;
# Graviton (arm64) is billed about 20% less a GB-second. What is the break-even if the functions
# run on arm64? The architecture is not a price but an assumption (`costs.Assumptions`), and
# `break_even` takes the assumptions to use: `dataclasses.replace(costs.ASSUMPTIONS, ...)` makes
# a changed copy. (Try the others too: `monolith_per_instance_per_second`,
# `batch_window_seconds`...)

# %% tags=["exercise"]
break_even_arm64 = ...  # notifications a month

# %% tags=["check"]
import yourturn

yourturn.check_step6_arm64(break_even_arm64)

# %% [markdown] tags=["solution"]
# <details><summary>Show a solution</summary>
#
# ```python
# import dataclasses
#
# on_arm64 = dataclasses.replace(costs.ASSUMPTIONS, architecture="arm64")
# break_even_arm64 = costs.break_even("self-hosted", assumptions=on_arm64).notifications
# print(f"{break_even_arm64:,} notifications a month")
# ```
#
# </details>

# %% [markdown]
# Done: remove the packaged files.

# %%
workdir.cleanup()
