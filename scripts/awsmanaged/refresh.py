#!/usr/bin/env python3
"""Refresh the AWS managed policies the broker ships (internal/iam/awsmanaged/).

The documents are AWS's own, as archived by MAMIP (https://github.com/zoph-io/MAMIP),
which records the default version of every AWS managed policy with `aws iam
get-policy-version` several times a day. Usage:

    git clone --depth 1 https://github.com/zoph-io/MAMIP /tmp/mamip
    scripts/awsmanaged/refresh.py /tmp/mamip

It rewrites, for each policy named in internal/iam/awsmanaged/index.json, its
metadata there (PolicyId, Arn, Path, DefaultVersionId, CreateDate, UpdateDate, from
MAMIP's policies-list.json) and its document (internal/iam/awsmanaged/NAME.json,
from MAMIP's policies/NAME). Descriptions are kept: MAMIP does not record them;
they come from AWS's managed policy reference
(https://docs.aws.amazon.com/aws-managed-policy/latest/reference/). To ship another
policy, add an entry {"PolicyName": ..., "Description": ...} to index.json and run
this script. Then run `go test ./internal/iam/ -run AWSManaged`: every document must
parse and evaluate.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEST = os.path.join(HERE, "..", "..", "internal", "iam", "awsmanaged")


def main(mamip):
    index_path = os.path.join(DEST, "index.json")
    with open(index_path) as f:
        index = json.load(f)
    with open(os.path.join(mamip, "policies-list.json")) as f:
        listed = {p["PolicyName"]: p for p in json.load(f)["Policies"]}
    out = []
    for entry in index:
        name = entry["PolicyName"]
        meta = listed[name]
        with open(os.path.join(mamip, "policies", name)) as f:
            version = json.load(f)["PolicyVersion"]
        if version["VersionId"] != meta["DefaultVersionId"]:
            sys.exit(f"{name}: document is {version['VersionId']}, list says {meta['DefaultVersionId']}")
        out.append({
            "PolicyName": name,
            "PolicyId": meta["PolicyId"],
            "Arn": meta["Arn"],
            "Path": meta["Path"],
            "DefaultVersionId": meta["DefaultVersionId"],
            "CreateDate": meta["CreateDate"].replace("+00:00", "Z"),
            "UpdateDate": meta["UpdateDate"].replace("+00:00", "Z"),
            "VersionCreateDate": version["CreateDate"],
            "Description": entry.get("Description", ""),
        })
        with open(os.path.join(DEST, name + ".json"), "w") as f:
            json.dump(version["Document"], f, indent=2)
            f.write("\n")
    with open(index_path, "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: refresh.py MAMIP_CHECKOUT")
    main(sys.argv[1])
