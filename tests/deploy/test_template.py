"""The infrastructure template (deploy/recall-fast.yaml): lint, invariants, and a moto deploy.

Three layers of checks, cheapest first:
- cfn-lint (the AWS resource specification: types, properties, references, conditions);
- invariants cfn-lint cannot know: every alarm pages and has a runbook entry, the redrive safety
  net sits behind the application's retry policy, concurrency is bounded, IAM grants no
  wildcard actions, every environment variable names a real config option and the handler
  string names the real handler;
- a deploy of both modes (lambda, ecs) into the moto server, then reading back what moto built.
  What moto's CloudFormation covers (moto 5.2): SQS queues (redrive, retention, visibility),
  the S3 bucket, SNS topic, security group, IAM roles and managed policy, log groups, Lambda
  layer, function (runtime, handler, timeout, memory, environment, VPC config, reserved
  concurrency), event source mapping (batch size, ReportBatchItemFailures, maximum
  concurrency), ECS cluster, task definition (command, stop timeout, environment, logs) and
  service (desired count). What it skips with a warning (so it is checked statically above
  instead): AWS::SQS::QueuePolicy, AWS::SNS::TopicInlinePolicy, AWS::SNS::Subscription,
  AWS::CloudWatch::Alarm; it also drops the bucket's NotificationConfiguration, the DLQ's
  RedriveAllowPolicy, the function's layer list, the service's network configuration and launch
  type and the container's secrets, and does not resolve `{{resolve:secretsmanager:...}}`. It
  cannot evaluate `Fn::If` -> `AWS::NoValue` inside a policy's Statement list, which is why the
  template avoids that construct.
"""

from __future__ import annotations

import dataclasses
import importlib
import io
import re
import uuid
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.api import ManualArgs, lint_file
from cfnlint.decode import cfn_yaml

from recall_fast import config as recall_config
from recall_fast.metrics import Metrics

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "deploy" / "recall-fast.yaml"
RUNBOOK = REPO / "docs" / "runbook.md"


@pytest.fixture(scope="module")
def template() -> Mapping[str, Any]:
    return cfn_yaml.load(str(TEMPLATE))


def resources_of(template: Mapping[str, Any], kind: str) -> dict[str, Mapping[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def test_template_passes_cfn_lint() -> None:
    matches = lint_file(TEMPLATE, config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
    assert [str(m) for m in matches] == []


def test_every_alarm_pages_and_has_a_runbook_entry(template) -> None:
    runbook = RUNBOOK.read_text()
    alarms = resources_of(template, "AWS::CloudWatch::Alarm")
    assert {
        "DeadLetterQueueDepthAlarm",
        "OldestMessageAgeAlarm",
        "DeadLetteredDocumentsAlarm",
        "LambdaErrorsAlarm",
        "LambdaThrottlesAlarm",
    } <= set(alarms)
    for name, alarm in alarms.items():
        props = alarm["Properties"]
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert props["OKActions"] == [{"Ref": "AlarmTopic"}], name
        # Missing data means "nothing happened", never a page (no logs is not an alert).
        assert props["TreatMissingData"] == "notBreaching", name
        anchor = re.search(r"docs/runbook\.md#([a-z0-9-]+)", props["AlarmDescription"])
        assert anchor is not None, f"{name} does not point at the runbook"
        assert f'<a id="{anchor.group(1)}"></a>' in runbook, f"runbook lacks #{anchor.group(1)}"


def test_custom_metric_alarm_watches_a_metric_the_consumers_emit(template) -> None:
    props = template["Resources"]["DeadLetteredDocumentsAlarm"]["Properties"]
    assert props["MetricName"] in Metrics().short_names()
    # EMF lines carry no dimensions (metrics.EmfEmitter), so neither may the alarm.
    assert "Dimensions" not in props
    lambda_env = template["Resources"]["ConsumerFunction"]["Properties"]["Environment"]
    assert lambda_env["Variables"]["RECALL_FAST_OBSERVABILITY__EMF_NAMESPACE"] == props["Namespace"]


def test_redrive_is_a_safety_net_behind_the_retry_policy(template) -> None:
    params = template["Parameters"]
    queue = template["Resources"]["IngestQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["DeadLetterQueue", "Arn"]
    }
    delays = [int(d) for d in params["RetryDelaysS"]["Default"].split(",")]
    assert delays == [int(d) for d in recall_config.QueueConfig().retry_delays_s]
    # Receives: one per delay plus the one that dead-letters; SQS must not move it earlier.
    assert params["MaxReceiveCount"]["Default"] > len(delays) + 1
    assert params["QueueRetentionS"]["Default"] > sum(delays)
    # The queue's visibility covers a whole Lambda run (AWS rejects less for an event source).
    assert params["QueueVisibilityTimeoutS"]["Default"] >= params["LambdaTimeoutS"]["MaxValue"]


def test_concurrency_is_bounded(template) -> None:
    params = template["Parameters"]
    reserved = params["LambdaReservedConcurrency"]
    assert "MaxValue" in reserved
    assert params["LambdaMaxConcurrency"]["MaxValue"] <= reserved["MaxValue"]
    assert params["LambdaMaxConcurrency"]["Default"] <= reserved["Default"]
    function = template["Resources"]["ConsumerFunction"]["Properties"]
    assert function["ReservedConcurrentExecutions"] == {"Ref": "LambdaReservedConcurrency"}
    mapping = template["Resources"]["ConsumerEventSource"]["Properties"]
    assert mapping["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "LambdaMaxConcurrency"}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "MaxValue" in params["WorkerCount"]
    # Consumers live in their own subnets (IP starvation incident).
    assert params["SubnetIds"]["Type"] == "List<AWS::EC2::Subnet::Id>"
    assert function["VpcConfig"]["SubnetIds"] == {"Ref": "SubnetIds"}


def _statements(template: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for name, res in template["Resources"].items():
        props = res.get("Properties", {})
        documents = []
        if "PolicyDocument" in props:
            documents.append(props["PolicyDocument"])
        policies = props.get("Policies", [])
        if isinstance(policies, Mapping) and "Fn::If" in policies:
            policies = policies["Fn::If"][1]
        documents += [p["PolicyDocument"] for p in policies]
        for document in documents:
            for statement in document["Statement"]:
                yield name, statement


def test_iam_grants_no_wildcard_actions(template) -> None:
    seen = 0
    for name, statement in _statements(template):
        if statement["Effect"] != "Allow" or "Principal" in statement:
            continue  # resource policies (queue, topic) grant to services, checked by cfn-lint
        seen += 1
        actions = statement["Action"]
        actions = [actions] if isinstance(actions, str) else actions
        assert all("*" not in a for a in actions), (name, actions)
        if statement["Resource"] == "*":
            # Only Lambda's ENI management, whose EC2 actions have no resource-level scope.
            assert statement["Sid"] == "VpcNetworkInterfaces", (name, statement)
            assert all(a.startswith("ec2:") for a in actions)
    assert seen >= 5


def _env_names(template: Mapping[str, Any]) -> set[str]:
    function = template["Resources"]["ConsumerFunction"]["Properties"]
    names = set(function["Environment"]["Variables"])
    container = template["Resources"]["WorkerTaskDefinition"]["Properties"]["ContainerDefinitions"][
        0
    ]
    names |= {e["Name"] for e in container["Environment"]}
    names |= {s["Name"] for s in container["Secrets"]["Fn::If"][1]}
    return names


def test_environment_variables_name_real_config_options(template) -> None:
    names = _env_names(template)
    assert names, "no RECALL_FAST_ variables"
    for name in sorted(names):
        match = re.fullmatch(r"RECALL_FAST_([A-Z0-9_]+?)__([A-Z0-9_]+)", name)
        assert match is not None, name
        section, option = match.group(1).lower(), match.group(2).lower()
        assert section in recall_config.SECTIONS, f"{name}: no config section {section!r}"
        fields = {f.name for f in dataclasses.fields(recall_config.SECTIONS[section])}
        assert option in fields, f"{name}: section {section!r} has no option {option!r}"


def test_handler_string_names_the_real_handler(template) -> None:
    handler = template["Resources"]["ConsumerFunction"]["Properties"]["Handler"]
    module, _, attribute = handler.rpartition(".")
    assert callable(getattr(importlib.import_module(module), attribute))
    command = template["Resources"]["WorkerTaskDefinition"]["Properties"]["ContainerDefinitions"][
        0
    ]["Command"]
    assert command == ["worker"]


# ------------------------------------------------------------------ deploy into moto


def _client(moto_server, service: str):
    return boto3.client(
        service,
        endpoint_url=moto_server.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _deploy(moto_server, mode: str, **extra: str) -> tuple[str, dict[str, str]]:
    """Create the stack in moto; return its name and outputs."""
    suffix = uuid.uuid4().hex[:8]
    ec2 = _client(moto_server, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24")["Subnet"]["SubnetId"]
        for i in (1, 2)
    ]
    s3 = _client(moto_server, "s3")
    artifacts = f"artifacts-{suffix}"
    s3.create_bucket(Bucket=artifacts)
    layer = io.BytesIO()
    with zipfile.ZipFile(layer, "w") as archive:
        archive.writestr("python/placeholder.py", "")
    s3.put_object(Bucket=artifacts, Key="layer.zip", Body=layer.getvalue())
    name = f"rf-{mode}-{suffix}"
    params = {
        "ConsumerMode": mode,
        "IngestBucketName": f"zeek-{mode}-{suffix}",
        "ElasticsearchUrl": "https://es.internal:443",
        "VpcId": vpc,
        "SubnetIds": ",".join(subnets),
        "LayerS3Bucket": artifacts,
        "LayerS3Key": "layer.zip",
        "WorkerImage": "registry.example/recall-fast:1",
        **extra,
    }
    cfn = _client(moto_server, "cloudformation")
    cfn.create_stack(
        StackName=name,
        TemplateBody=TEMPLATE.read_text(),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
        Capabilities=["CAPABILITY_IAM"],
    )
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    return name, {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


def _check_queues(moto_server, name: str, outputs: Mapping[str, str]) -> None:
    sqs = _client(moto_server, "sqs")
    ingest = sqs.get_queue_attributes(QueueUrl=outputs["IngestQueueUrl"], AttributeNames=["All"])
    attrs = ingest["Attributes"]
    assert attrs["VisibilityTimeout"] == "1800"
    assert attrs["MessageRetentionPeriod"] == "345600"
    assert attrs["ReceiveMessageWaitTimeSeconds"] == "20"
    redrive = attrs["RedrivePolicy"]
    assert f":{name}-dlq" in redrive and '"maxReceiveCount": 6' in redrive
    dlq = sqs.get_queue_attributes(
        QueueUrl=outputs["DeadLetterQueueUrl"], AttributeNames=["MessageRetentionPeriod"]
    )
    assert dlq["Attributes"]["MessageRetentionPeriod"] == "1209600"
    topics = _client(moto_server, "sns").list_topics()["Topics"]
    assert outputs["AlarmTopicArn"] in {t["TopicArn"] for t in topics}


@pytest.mark.integration
def test_lambda_mode_deploys_into_moto(moto_server) -> None:
    name, outputs = _deploy(moto_server, "lambda")
    _check_queues(moto_server, name, outputs)
    lam = _client(moto_server, "lambda")
    function = lam.get_function_configuration(FunctionName=f"{name}-consumer")
    assert function["Handler"] == "recall_fast.lambda_entry.handler.handle"
    assert function["Runtime"] == "python3.12"
    assert function["Timeout"] == 300
    assert len(function["VpcConfig"]["SubnetIds"]) == 2
    assert function["VpcConfig"]["SecurityGroupIds"]
    env = function["Environment"]["Variables"]
    assert env["RECALL_FAST_QUEUE__QUEUE_URL"] == outputs["IngestQueueUrl"]
    assert env["RECALL_FAST_QUEUE__DEAD_LETTER_QUEUE_URL"] == outputs["DeadLetterQueueUrl"]
    assert env["RECALL_FAST_DEAD_LETTER__TARGET"] == outputs["DeadLetterStore"]
    # No API key secret given: the variable is absent, not empty.
    assert "RECALL_FAST_ELASTICSEARCH__API_KEY" not in env
    concurrency = lam.get_function_concurrency(FunctionName=f"{name}-consumer")
    assert concurrency["ReservedConcurrentExecutions"] == 20
    mappings = lam.list_event_source_mappings(FunctionName=f"{name}-consumer")
    (mapping,) = mappings["EventSourceMappings"]
    assert mapping["EventSourceArn"] == outputs["IngestQueueArn"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 20}
    assert mapping["BatchSize"] == 10
    clusters = _client(moto_server, "ecs").list_clusters()["clusterArns"]
    assert all(f"{name}-workers" not in arn for arn in clusters)


@pytest.mark.integration
def test_ecs_mode_deploys_into_moto_with_api_key_secret(moto_server) -> None:
    secret = _client(moto_server, "secretsmanager").create_secret(
        Name=f"es-key-{uuid.uuid4().hex[:8]}", SecretString="id:key"
    )["ARN"]
    name, outputs = _deploy(moto_server, "ecs", ElasticsearchApiKeySecretArn=secret)
    _check_queues(moto_server, name, outputs)
    ecs = _client(moto_server, "ecs")
    services = ecs.describe_services(
        cluster=f"{name}-workers", services=[outputs["WorkerServiceName"]]
    )["services"]
    (service,) = services
    assert service["desiredCount"] == 2
    task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])
    (container,) = task["taskDefinition"]["containerDefinitions"]
    assert container["command"] == ["worker"]
    assert container["stopTimeout"] == 120
    env = {e["name"]: e["value"] for e in container["environment"]}
    assert env["RECALL_FAST_QUEUE__QUEUE_URL"] == outputs["IngestQueueUrl"]
    assert env["RECALL_FAST_QUEUE__MAX_MESSAGES_IN_FLIGHT"] == "4"
    # The key comes from Secrets Manager at task start, never as a plain variable.
    assert "RECALL_FAST_ELASTICSEARCH__API_KEY" not in env
    assert container["logConfiguration"]["logDriver"] == "awslogs"
    functions = _client(moto_server, "lambda").list_functions()["Functions"]
    assert f"{name}-consumer" not in {f["FunctionName"] for f in functions}
