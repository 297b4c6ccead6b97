"""The exploding-token recipe of docs/PRODUCT.md, steps 1 to 4, with boto3.

Run by recipe_test.go with AWS_ENDPOINT_URL (the broker), AWS_DEFAULT_REGION,
AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (the admin's key) and WORK (an
empty private directory). Secret values are read from files and a named pipe;
copies are left in WORK/value-* for the test to check.
"""

import json
import os
import sys
import threading

import boto3
import botocore.exceptions

WORK = os.environ["WORK"]
ENDPOINT = os.environ["AWS_ENDPOINT_URL"]
REGION = os.environ["AWS_DEFAULT_REGION"]


def say(msg):
    print("== " + msg, flush=True)


def fail(msg):
    print("recipe.py: FAIL: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


def client(service, key_id=None, secret=None, token=None):
    """A client with exactly the given credentials (the admin's by default)."""
    kwargs = {"region_name": REGION, "endpoint_url": ENDPOINT}
    if key_id is not None:
        kwargs.update(aws_access_key_id=key_id, aws_secret_access_key=secret, aws_session_token=token)
    return boto3.session.Session().client(service, **kwargs)


def denied(code, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except botocore.exceptions.ClientError as e:
        got = e.response["Error"]["Code"]
        if got != code:
            fail("%s: error %s, want %s" % (fn.__name__, got, code))
        say("denied as it should be (%s): %s" % (code, fn.__name__))
        return
    fail("%s succeeded; want %s" % (fn.__name__, code))


def new_value(sm, name):
    value = sm.get_random_password(ExcludePunctuation=True, PasswordLength=40)["RandomPassword"]
    path = os.path.join(WORK, name)
    with open(path, "w") as f:
        f.write(value)
    return path


def main():
    os.umask(0o077)
    sm = client("secretsmanager")
    iam = client("iam")
    account = client("sts").get_caller_identity()["Account"]

    say("1. a permanent secret, from a file and from a named pipe")
    sm.create_secret(Name="/prod/exampleCredential", Description="recipe")
    with open(new_value(sm, "value-file")) as f:
        sm.put_secret_value(SecretId="/prod/exampleCredential", SecretString=f.read())
    pipe = os.path.join(WORK, "pipe")
    os.mkfifo(pipe, 0o600)
    source = new_value(sm, "value-pipe")

    def writer():
        with open(source) as src, open(pipe, "w") as dst:
            dst.write(src.read())

    t = threading.Thread(target=writer)
    t.start()
    with open(pipe) as f:
        sm.put_secret_value(SecretId="/prod/exampleCredential", SecretString=f.read())
    t.join()
    os.remove(pipe)
    with open(source) as f:
        current = f.read()
    with open(new_value(sm, "value-staging")) as f:
        sm.create_secret(Name="/staging/exampleCredential", SecretString=f.read())

    say("2. a policy that reads /prod/*, attached to the operator")
    read_prod = json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "arn:aws:secretsmanager:us-east-1:*:secret:/prod/*",
        }],
    })
    policy_arn = iam.create_policy(PolicyName="read-prod-secrets", PolicyDocument=read_prod)["Policy"]["Arn"]
    iam.create_user(UserName="operator")
    iam.attach_user_policy(UserName="operator", PolicyArn=policy_arn)
    key = iam.create_access_key(UserName="operator")["AccessKey"]
    operator_sts = client("sts", key["AccessKeyId"], key["SecretAccessKey"])

    def pipeline(pasted):
        """What the CI job does with the pasted string: split, and use only it."""
        parts = pasted.split(":")
        if len(parts) != 3 or not all(parts):
            fail("the pasted string does not split into SessionToken:AccessKeyId:SecretAccessKey")
        token, key_id, secret = parts
        return client("secretsmanager", key_id, secret, token), client("iam", key_id, secret, token)

    def ci_get(ci_sm):
        value = ci_sm.get_secret_value(SecretId="/prod/exampleCredential").get("SecretString")
        if not value:
            fail("failed to get exampleCredential")
        if value != current:
            fail("the pipeline got a value that is not the current one")

    say("3. an exploding token from get_session_token, pasted into the pipeline")
    c = operator_sts.get_session_token(DurationSeconds=900)["Credentials"]
    ci_sm, _ = pipeline(c["SessionToken"] + ":" + c["AccessKeyId"] + ":" + c["SecretAccessKey"])
    ci_get(ci_sm)
    say("the pipeline read /prod/exampleCredential")
    denied("AccessDeniedException", ci_sm.get_secret_value, SecretId="/staging/exampleCredential")
    denied("AccessDeniedException", ci_sm.put_secret_value, SecretId="/prod/exampleCredential", SecretString="x")

    say("4. least privilege: a role that reads /prod/* only")
    trust = json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::%s:user/operator" % account},
            "Action": "sts:AssumeRole",
        }],
    })
    role_arn = iam.create_role(RoleName="prod-secret-reader", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    iam.put_role_policy(RoleName="prod-secret-reader", PolicyName="read-prod", PolicyDocument=read_prod)
    iam.put_user_policy(UserName="operator", PolicyName="assume-reader", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}],
    }))
    c = operator_sts.assume_role(RoleArn=role_arn, RoleSessionName="jenkins-build-42")["Credentials"]
    ci_sm, ci_iam = pipeline(c["SessionToken"] + ":" + c["AccessKeyId"] + ":" + c["SecretAccessKey"])
    ci_get(ci_sm)
    say("the role session read /prod/exampleCredential")
    denied("AccessDenied", ci_iam.list_users)
    denied("AccessDeniedException", ci_sm.get_secret_value, SecretId="/staging/exampleCredential")
    denied("AccessDeniedException", ci_sm.put_secret_value, SecretId="/prod/exampleCredential", SecretString="x")
    denied("AccessDeniedException", ci_sm.describe_secret, SecretId="/prod/exampleCredential")
    denied("AccessDeniedException", ci_sm.list_secrets)
    say("recipe.py: ok")


if __name__ == "__main__":
    main()
