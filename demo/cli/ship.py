"""``bankdemo package``, ``deploy`` and ``destroy``: step 6, shipping a stage to AWS.

``package`` works offline. ``deploy`` and ``destroy`` check the credentials first, print what
they will do, and ask before they do it (``--yes`` answers for you); the AWS calls are in
demo/aws/deploy.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from demo import settings
from demo.aws import deploy
from demo.cli.common import console, err, fail

DIST = Path("dist")

StageOption = Annotated[
    str, typer.Option("--stage", help="Stage of .chalice/config.json to ship (dev, prod).", show_default=True)
]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Answer yes to every question.")]
RegionOption = Annotated[
    str | None,
    typer.Option(help="AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or your profile's region)."),
]
TimeoutOption = Annotated[float, typer.Option(min=1, help="Minutes to wait for CloudFormation.")]


def register(app: typer.Typer) -> None:
    app.command(name="package")(package)
    app.command(name="deploy")(deploy_stage)  # not `deploy`: that is the module of the AWS calls
    app.command(name="destroy")(destroy)


def _known(stage: str) -> None:
    from demo.aws.shipping import aws_stages

    stages = aws_stages()
    if stage not in stages:
        hint = " (the local cloud's stage: `bankdemo up`)" if stage == "local" else ""
        raise fail(f"unknown stage {stage!r}{hint}; the stages that ship to AWS: {', '.join(stages)}", code=2)


def _say(text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _package(stage: str, out: Path) -> deploy.Artefacts:
    with console.status(f"Packaging stage {stage} (chalice package)..."):
        try:
            return deploy.build(stage, out)
        except deploy.DeployError as error:
            raise fail(str(error)) from None


def _describe(artefacts: deploy.Artefacts) -> None:
    template = artefacts.template()
    size = artefacts.zip_path.stat().st_size / 1_000_000
    _say(f"template  {artefacts.template_path}")
    _say(f"zip       {artefacts.zip_path} ({size:.2f} MB)")
    counts = deploy.resource_counts(template)
    table = Table(title=f"{sum(counts.values())} resources in the template")
    table.add_column("type")
    table.add_column("count", justify="right")
    for kind, count in counts.items():
        table.add_row(kind, str(count))
    console.print(table)
    if any(kind.startswith("AWS::Serverless::") for kind in counts):
        _say("The AWS::Serverless::* resources expand into several each on AWS (the SAM transform).")


def package(
    stage: StageOption = "dev",
    out: Annotated[Path | None, typer.Option(help="Where to write them (default: dist/<stage>).")] = None,
) -> None:
    """Package a stage for AWS, offline: the SAM template and the deployment zip, in dist/<stage>/."""
    _known(stage)
    artefacts = _package(stage, out or DIST / stage)
    _say(f"Packaged stage {stage}:")
    _describe(artefacts)


def _identity(region: str | None, nothing: str) -> tuple[object, deploy.Identity]:
    """The session and whom its credentials are: checked before any other AWS call."""
    try:
        session = deploy.open_session(region)
        identity = deploy.check_credentials(session)
    except deploy.DeployError as error:
        raise fail(f"{error}\nNothing was {nothing}.") from None
    if identity.endpoint:
        err.print(
            f"[yellow]AWS_ENDPOINT_URL is set: every call goes to {escape(identity.endpoint)}, not to AWS[/] "
            "(a way to try this against the local cloud; unset it to ship to AWS)."
        )
    return session, identity


def _print_plan(plan: deploy.Plan) -> None:
    who = plan.identity
    _say(f"account   {who.account} ({who.arn})")
    _say(f"region    {who.region}")
    _say(f"stage     {plan.stage}")
    _say(f"stack     {plan.stack} (created, or updated if it exists)")
    _say(f"bucket    {plan.bucket} (the zip and the template go there)")
    _say(f"secrets   {', '.join(deploy.secret_parameters(plan.stage).values())} (SecureStrings)")
    table = Table(title=f"The {len(plan.resources)} resources of the template")
    table.add_column("logical id")
    table.add_column("type")
    for name, kind in plan.resources:
        table.add_row(name, kind)
    console.print(table)
    _say("On AWS the SAM transform expands each AWS::Serverless::* resource into several.")
    _say(
        "note: the queues, the event bus and the review workflow have no stage in their names: "
        "one bank stack per account and region (give prod an account of its own)."
    )
    _say(plan.cost)


def deploy_stage(
    stage: StageOption = "dev",
    yes: YesOption = False,
    region: RegionOption = None,
    notifications_per_month: Annotated[
        int, typer.Option(min=0, help="For the cost estimate: notifications the bank receives a month.")
    ] = 100_000,
    package_dir: Annotated[
        Path | None,
        typer.Option(help="Deploy what `make package` wrote there, instead of packaging again."),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Where to package (default: dist/<stage>).")] = None,
    client_webhook_url: Annotated[
        str | None,
        typer.Option(help="Where the bank sends the fintech client's webhooks (default: the template's)."),
    ] = None,
    client_webhook_secret: Annotated[
        str | None,
        typer.Option(
            envvar="BANK_CLIENT_WEBHOOK_SECRET",
            help="Secret the bank signs the client's webhooks with (default: a random one, kept across deploys).",
            show_default=False,
        ),
    ] = None,
    timeout: TimeoutOption = deploy.TIMEOUT_SECONDS / 60,
) -> None:
    """Deploy a stage to AWS: credentials checked, the plan printed, a confirmation, then CloudFormation."""
    _known(stage)
    if client_webhook_secret == settings.LOCAL_WEBHOOK_SECRET:
        raise fail(
            "that client webhook secret is the local demo's, public in this repo: pick another", code=2
        )
    session, identity = _identity(region, "created")
    if package_dir is None:
        artefacts = _package(stage, out or DIST / stage)
    else:
        try:
            artefacts = deploy.Artefacts(package_dir).check(stage)
        except deploy.DeployError as error:
            raise fail(f"{error}\nNothing was created.") from None
    plan = deploy.make_plan(
        identity, stage, artefacts.template(), notifications_per_month, client_webhook_url
    )
    _print_plan(plan)
    if client_webhook_url is None:
        _say(
            "note: no --client-webhook-url: on a first deploy the webhooks go to the template's default "
            "(a local address that nothing on AWS answers), and end in bank-webhooks-dlq."
        )
    if not yes and not typer.confirm(
        f"Deploy stack {plan.stack} to account {identity.account} in {identity.region}?", default=False
    ):
        raise fail("nothing was created.", code=1)
    deployment = deploy.Deployment(session, identity, say=_say)
    try:
        outputs = deployment.deploy(plan, artefacts, client_webhook_secret, timeout=timeout * 60)
    except deploy.DeployError as error:
        raise fail(f"{error}\n`bankdemo destroy --stage {stage}` removes what was created.") from None
    except Exception as error:  # an AWS error mid-way: say what may exist
        raise fail(
            f"deploy failed: {error}\nSomething may have been created: "
            f"`bankdemo destroy --stage {stage}` lists and removes it."
        ) from None
    table = Table(title=f"Stack {plan.stack}: outputs")
    table.add_column("output")
    table.add_column("value")
    for key, value in sorted(outputs.items()):
        table.add_row(key, escape(value))
    console.print(table)
    api = outputs.get("EndpointURL", "<EndpointURL>")
    names = deploy.secret_parameters(stage)
    _say(f"Deployed. The API: {api}")
    _say(
        f"The processor signs with the secret in {names['signing']}: "
        f"aws ssm get-parameter --name {names['signing']} --with-decryption --region {identity.region}"
    )
    _say(
        f'Try it: bankdemo send --api {api} --count 20 --secret "$(aws ssm get-parameter '
        f"--name {names['signing']} --with-decryption --query Parameter.Value --output text "
        f'--region {identity.region})"'
    )


def destroy(
    stage: StageOption = "dev",
    yes: YesOption = False,
    region: RegionOption = None,
    timeout: TimeoutOption = deploy.TIMEOUT_SECONDS / 60,
) -> None:
    """Destroy a stage's stack, its secrets and uploads, then list whatever is left behind."""
    _known(stage)
    session, identity = _identity(region, "deleted")
    deployment = deploy.Deployment(session, identity, say=_say)
    bucket = deploy.bucket_name(identity.account, identity.region)
    try:
        survey = deployment.survey(stage)
    except Exception as error:
        raise fail(
            f"cannot read the stack {deploy.stack_name(stage)}: {error}\nNothing was deleted."
        ) from None
    _say(f"account   {identity.account} ({identity.arn})")
    _say(f"region    {identity.region}")
    if survey.stack is None:
        _say(f"No stack {deploy.stack_name(stage)} here.")
    else:
        _say(f"stack     {survey.stack['StackName']} ({survey.stack['StackStatus']})")
        table = Table(title=f"The stack's {len(survey.resources)} resources, deleted with it")
        for column in ("logical id", "type", "physical id", "on deletion"):
            table.add_column(column)
        for r in survey.resources:
            kept = survey.retained.get(r.get("LogicalResourceId", ""))
            table.add_row(
                r.get("LogicalResourceId", "?"),
                r.get("ResourceType", "?"),
                escape(r.get("PhysicalResourceId", "")),
                f"[yellow]{kept}: kept[/]" if kept else "deleted",
            )
        console.print(table)
    secrets = deploy.secret_parameters(stage)
    _say(f"secrets   {', '.join(secrets.values())} (and a rotation's -previous) are deleted too")
    if not yes and not typer.confirm(f"Destroy stage {stage} in {identity.region}?", default=False):
        raise fail("nothing was deleted.", code=1)
    try:
        deployment.destroy(survey, timeout=timeout * 60)
        deleted = deployment.delete_secrets(stage)
        _say(f"deleted the secrets: {', '.join(deleted) or 'none were there'}")
        if yes or typer.confirm(
            f"Delete what deploys of {stage} uploaded to s3://{bucket}/{stage}/?", default=True
        ):
            _say(f"deleted {deployment.delete_uploads(stage, bucket)} object(s) from s3://{bucket}/{stage}/")
    except deploy.DeployError as error:
        raise fail(str(error)) from None
    except Exception as error:
        raise fail(f"destroy failed: {error}") from None
    left = deployment.leftovers(stage, survey, bucket)
    if not left:
        console.print(f"[green]Nothing of stage {stage} is left in {identity.region}.[/]")
        return
    console.print(f"[yellow]Left behind in {identity.region}: {len(left)}[/]")
    for item in left:  # lines, not a table: the commands stay whole, to copy
        _say(f"- {item.what}: {item.name}\n    to remove it: {item.remove}")
    _say(
        "Check in the console too: CloudFormation (the stack DELETE_COMPLETE, under the Deleted filter), "
        "CloudWatch Logs, Systems Manager Parameter Store, S3, KMS (keys pending deletion)."
    )
