// The AWS SDK for JavaScript v3 against the broker: STS, IAM and Secrets
// Manager as a Node.js program uses them, and the broker's answers where
// this SDK family reads them differently from boto3 and aws-sdk-go-v2
// (error names and messages, absent versus empty members).
//
// Run by jssdk_test.go with AWS_ENDPOINT_URL (the broker), AWS_REGION,
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (the admin's key). It prints
// "== step" lines and, last, "jssdk: ok"; it never prints a secret value.

import { STSClient, GetCallerIdentityCommand, AssumeRoleCommand } from "@aws-sdk/client-sts";
import {
  IAMClient, CreateUserCommand, AttachUserPolicyCommand, ListAttachedUserPoliciesCommand,
  GetPolicyCommand, CreateRoleCommand, GetRoleCommand, DeletePolicyCommand, AttachRolePolicyCommand,
} from "@aws-sdk/client-iam";
import {
  SecretsManagerClient, CreateSecretCommand, PutSecretValueCommand, GetSecretValueCommand,
  DescribeSecretCommand, ListSecretVersionIdsCommand, UpdateSecretVersionStageCommand,
  TagResourceCommand, UntagResourceCommand, ListSecretsCommand, PutResourcePolicyCommand,
} from "@aws-sdk/client-secrets-manager";

const endpoint = process.env.AWS_ENDPOINT_URL;
const region = process.env.AWS_REGION;
const admin = { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY };
const common = { endpoint, region, maxAttempts: 1 };

const say = (msg) => console.log("== " + msg);
function fail(msg) {
  console.error("jssdk: FAIL: " + msg);
  process.exit(1);
}
function check(cond, msg) {
  if (!cond) fail(msg);
}

// expectError runs fn and checks the error's name (the AWS code), HTTP
// status and, if given, its exact message.
async function expectError(what, fn, name, status, message) {
  try {
    await fn();
  } catch (e) {
    check(e.name === name, `${what}: error ${e.name} (${e.message}), want ${name}`);
    check(e.$metadata?.httpStatusCode === status, `${what}: status ${e.$metadata?.httpStatusCode}, want ${status}`);
    if (message !== undefined) {
      check(e.message === message, `${what}: message ${JSON.stringify(e.message)}, want ${JSON.stringify(message)}`);
    }
    return;
  }
  fail(`${what}: succeeded, want ${name}`);
}

const sts = new STSClient({ ...common, credentials: admin });
const iam = new IAMClient({ ...common, credentials: admin });
const sm = new SecretsManagerClient({ ...common, credentials: admin });

say("sts get-caller-identity");
const me = await sts.send(new GetCallerIdentityCommand({}));
check(/^arn:aws:iam::\d{12}:user\/admin$/.test(me.Arn), `caller ${me.Arn}`);
const account = me.Account;

say("iam: AWS managed policies");
await iam.send(new CreateUserCommand({ UserName: "js-user" }));
const readOnly = "arn:aws:iam::aws:policy/ReadOnlyAccess";
const pol = await iam.send(new GetPolicyCommand({ PolicyArn: readOnly }));
check(pol.Policy.PolicyId === "ANPAILL3HVNFSB6DCOWYQ" && /^v\d+$/.test(pol.Policy.DefaultVersionId) && pol.Policy.IsAttachable === true,
  `GetPolicy(ReadOnlyAccess) = ${JSON.stringify(pol.Policy)}`);
await iam.send(new AttachUserPolicyCommand({ UserName: "js-user", PolicyArn: readOnly }));
await iam.send(new AttachUserPolicyCommand({ UserName: "js-user", PolicyArn: "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess" }));
const attached = await iam.send(new ListAttachedUserPoliciesCommand({ UserName: "js-user" }));
check(attached.AttachedPolicies.map((p) => p.PolicyName).sort().join(",") === "ReadOnlyAccess,ViewOnlyAccess",
  `attached ${JSON.stringify(attached.AttachedPolicies)}`);
await expectError("AttachUserPolicy(not an ARN)",
  () => iam.send(new AttachUserPolicyCommand({ UserName: "js-user", PolicyArn: "ReadOnlyAccess-by-name-only" })),
  "ValidationError", 400, "Invalid ARN:  Could not be parsed!");
await expectError("AttachUserPolicy(unknown AWS policy)",
  () => iam.send(new AttachUserPolicyCommand({ UserName: "js-user", PolicyArn: "arn:aws:iam::aws:policy/AmazonEC2FullAccess" })),
  "NoSuchEntityException", 404, "Policy arn:aws:iam::aws:policy/AmazonEC2FullAccess does not exist or is not attachable.");
await expectError("DeletePolicy(missing)",
  () => iam.send(new DeletePolicyCommand({ PolicyArn: `arn:aws:iam::${account}:policy/nope` })),
  "NoSuchEntityException", 404, `Policy arn:aws:iam::${account}:policy/nope was not found.`);

say("iam: role shapes");
const trust = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: "sts:AssumeRole" }],
});
const created = await iam.send(new CreateRoleCommand({ RoleName: "js-reader", AssumeRolePolicyDocument: trust }));
check(created.Role.MaxSessionDuration === undefined, `CreateRole MaxSessionDuration = ${created.Role.MaxSessionDuration}, want none`);
const role = await iam.send(new GetRoleCommand({ RoleName: "js-reader" }));
check(role.Role.MaxSessionDuration === 3600, `GetRole MaxSessionDuration = ${role.Role.MaxSessionDuration}`);
check(role.Role.RoleLastUsed !== undefined && Object.keys(role.Role.RoleLastUsed).length === 0,
  `GetRole RoleLastUsed = ${JSON.stringify(role.Role.RoleLastUsed)}, want {}`);

say("secretsmanager: create, put, stages");
const name = "/js/db";
const c = await sm.send(new CreateSecretCommand({ Name: name, Description: "an secret for the database", SecretString: "js-value-1" }));
check(c.ARN.includes(":secret:/js/db-") && c.VersionId, `CreateSecret = ${JSON.stringify(c)}`);
const v1 = c.VersionId;
const pending = await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: "js-value-2", VersionStages: ["AWSPENDING"] }));
await sm.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: "AWSCURRENT", MoveToVersionId: pending.VersionId, RemoveFromVersionId: v1 }));
const v3 = await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: "js-value-3" }));
const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: name }));
const stages = Object.fromEntries(versions.Versions.map((v) => [v.VersionId, (v.VersionStages ?? []).slice().sort().join(",")]));
check(stages[pending.VersionId] === "AWSPREVIOUS", `the version that was AWSCURRENT and AWSPENDING has ${stages[pending.VersionId]}, want AWSPREVIOUS only`);
check(stages[v3.VersionId] === "AWSCURRENT", `new version has ${stages[v3.VersionId]}`);
check(versions.Versions.every((v) => JSON.stringify(v.KmsKeyIds) === '["DefaultEncryptionKey"]'), `KmsKeyIds ${JSON.stringify(versions.Versions.map((v) => v.KmsKeyIds))}`);
const got = await sm.send(new GetSecretValueCommand({ SecretId: name }));
check(got.SecretString === "js-value-3" && got.VersionId === v3.VersionId, "GetSecretValue did not return the current version");

say("secretsmanager: errors as the JS SDK reads them");
await expectError("GetSecretValue(missing)", () => sm.send(new GetSecretValueCommand({ SecretId: "/js/none" })),
  "ResourceNotFoundException", 400, "Secrets Manager can't find the specified secret.");
await expectError("GetSecretValue(VersionId and another stage)",
  () => sm.send(new GetSecretValueCommand({ SecretId: name, VersionId: v1, VersionStage: "AWSCURRENT" })),
  "InvalidRequestException", 400, "You provided a VersionStage that is not associated to the provided VersionId.");
await expectError("DescribeSecret(invalid name)", () => sm.send(new DescribeSecretCommand({ SecretId: "/js/bad name" })),
  "ValidationException", 400, "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!");
await expectError("CreateSecret(invalid name)", () => sm.send(new CreateSecretCommand({ Name: "bad name", SecretString: "x" })),
  "ValidationException", 400);

say("secretsmanager: tags and filters");
await sm.send(new TagResourceCommand({ SecretId: name, Tags: [{ Key: "team", Value: "js" }] }));
await sm.send(new UntagResourceCommand({ SecretId: name, TagKeys: ["team"] }));
const d = await sm.send(new DescribeSecretCommand({ SecretId: name }));
check(Array.isArray(d.Tags) && d.Tags.length === 0, `Tags after the last was removed = ${JSON.stringify(d.Tags)}, want []`);
const found = await sm.send(new ListSecretsCommand({ Filters: [{ Key: "description", Values: ["a secret"] }] }));
check(found.SecretList.map((s) => s.Name).join(",") === name, `description filter "a secret" found ${found.SecretList.map((s) => s.Name)}`);

say("secretsmanager: a member this SDK sends that the broker's model lacks is ignored");
const withExtra = new SecretsManagerClient({ ...common, credentials: admin });
withExtra.middlewareStack.add((next) => async (args) => {
  const body = JSON.parse(args.request.body);
  body.PolicyName = "ignored-by-aws";
  args.request.body = JSON.stringify(body);
  return next(args);
}, { step: "build", priority: "high", name: "addUnknownMember" });
const policy = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: "secretsmanager:GetSecretValue", Resource: "*" }],
});
await withExtra.send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: policy }));

say("sts assume-role with an AWS managed policy as session policy");
await iam.send(new AttachRolePolicyCommand({ RoleName: "js-reader", PolicyArn: "arn:aws:iam::aws:policy/SecretsManagerReadWrite" }));
const assumed = await sts.send(new AssumeRoleCommand({
  RoleArn: `arn:aws:iam::${account}:role/js-reader`, RoleSessionName: "js", PolicyArns: [{ arn: readOnly }],
}));
const session = {
  accessKeyId: assumed.Credentials.AccessKeyId, secretAccessKey: assumed.Credentials.SecretAccessKey,
  sessionToken: assumed.Credentials.SessionToken,
};
const smReader = new SecretsManagerClient({ ...common, credentials: session });
// SecretsManagerReadWrite (the role's) and ReadOnlyAccess (the session's) both allow reading metadata;
// only the first allows writing, so the session may not.
const described = await smReader.send(new DescribeSecretCommand({ SecretId: name }));
check(described.Name === name, `DescribeSecret as the session = ${described.Name}`);
await expectError("PutSecretValue(read-only session)",
  () => smReader.send(new PutSecretValueCommand({ SecretId: name, SecretString: "js-value-4" })),
  "AccessDeniedException", 400);

console.log("jssdk: ok");
