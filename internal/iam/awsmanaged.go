package iam

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// The AWS managed policies the broker ships: AWS's own documents, with
// their real policy ids, paths, default version ids and dates, for the
// general policies (AdministratorAccess, PowerUserAccess, ReadOnlyAccess,
// ViewOnlyAccess, SecurityAudit) and those of the services the broker
// implements (IAM, Secrets Manager). Bootstrap writes them to the store;
// they cannot be changed. An ARN under arn:aws:iam::aws:policy/ that is not
// among them is NoSuchEntity.
//
// awsmanaged/index.json lists them; awsmanaged/NAME.json is the default
// version's document. docs/COMPATIBILITY.md says where they come from and
// scripts/awsmanaged/refresh.py refreshes them.
//
//go:embed awsmanaged/*.json
var awsManagedFS embed.FS

// awsManaged is the shipped policies, sorted by name.
var awsManaged = mustLoadAWSManaged()

type awsManagedEntry struct {
	PolicyName        string
	PolicyId          string
	Arn               string
	Path              string
	DefaultVersionId  string
	CreateDate        time.Time
	UpdateDate        time.Time
	VersionCreateDate time.Time
	Description       string
}

func mustLoadAWSManaged() []policyRec {
	recs, err := loadAWSManaged()
	if err != nil {
		panic(err)
	}
	return recs
}

func loadAWSManaged() ([]policyRec, error) {
	b, err := awsManagedFS.ReadFile("awsmanaged/index.json")
	if err != nil {
		return nil, err
	}
	var index []awsManagedEntry
	if err := json.Unmarshal(b, &index); err != nil {
		return nil, fmt.Errorf("awsmanaged/index.json: %w", err)
	}
	recs := make([]policyRec, 0, len(index))
	for _, e := range index {
		doc, err := awsManagedFS.ReadFile("awsmanaged/" + e.PolicyName + ".json")
		if err != nil {
			return nil, err
		}
		var compact bytes.Buffer
		if e.Arn != "arn:aws:iam::aws:policy"+e.Path+e.PolicyName || json.Compact(&compact, doc) != nil {
			return nil, fmt.Errorf("awsmanaged: %s: ARN %s does not match path %s, or the document is not JSON", e.PolicyName, e.Arn, e.Path)
		}
		var next int
		if _, err := fmt.Sscanf(e.DefaultVersionId, "v%d", &next); err != nil {
			return nil, fmt.Errorf("awsmanaged: %s: version id %q", e.PolicyName, e.DefaultVersionId)
		}
		recs = append(recs, policyRec{
			Name: e.PolicyName, ID: e.PolicyId, Path: e.Path, ARN: e.Arn, Description: e.Description,
			Created: e.CreateDate.UTC(), Updated: e.UpdateDate.UTC(), Default: e.DefaultVersionId,
			Versions:    []versionRec{{ID: e.DefaultVersionId, Created: e.VersionCreateDate.UTC(), Document: compact.String()}},
			NextVersion: next + 1,
		})
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Name < recs[j].Name })
	return recs, nil
}
