package approvals

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ParamsEnv is the variable in which a CI integration (the Jenkins library)
// passes the build's parameters, as a JSON object, for hashing.
const ParamsEnv = "SHORTFUSE_BUILD_PARAMS"

// BuildFromEnv reads the build's identity from the variables that Jenkins,
// GitHub Actions and GitLab CI set. readFile reads GitHub's event payload
// (GITHUB_EVENT_PATH), whose workflow_dispatch inputs are the build's
// parameters; it may be nil. Fields that the CI system does not provide are
// left empty; values that would not pass [Build.Validate] are dropped
// rather than sent.
func BuildFromEnv(getenv func(string) string, readFile func(string) ([]byte, error)) Build {
	var b Build
	switch {
	case getenv("GITHUB_ACTIONS") == "true":
		b.System = "github"
		server, repo, run := getenv("GITHUB_SERVER_URL"), getenv("GITHUB_REPOSITORY"), getenv("GITHUB_RUN_ID")
		if server != "" && repo != "" && run != "" {
			b.URL = strings.TrimSuffix(server, "/") + "/" + repo + "/actions/runs/" + run
			if a := getenv("GITHUB_RUN_ATTEMPT"); a != "" && a != "1" {
				b.URL += "/attempts/" + a
			}
		}
		b.Job = joinNonEmpty(" ", repo, joinNonEmpty(":", getenv("GITHUB_WORKFLOW"), getenv("GITHUB_JOB")))
		b.Number = getenv("GITHUB_RUN_NUMBER")
		b.Commit = getenv("GITHUB_SHA")
		if p := getenv("GITHUB_EVENT_PATH"); p != "" && readFile != nil {
			if data, err := readFile(p); err == nil {
				b.ParamsHash = githubInputsHash(data)
			}
		}
	case getenv("GITLAB_CI") == "true":
		b.System = "gitlab"
		b.URL = getenv("CI_JOB_URL")
		if b.URL == "" {
			b.URL = getenv("CI_PIPELINE_URL")
		}
		b.Job = joinNonEmpty(":", getenv("CI_PROJECT_PATH"), getenv("CI_JOB_NAME"))
		b.Number = getenv("CI_PIPELINE_IID")
		b.Commit = getenv("CI_COMMIT_SHA")
	case getenv("BUILD_URL") != "" || getenv("JENKINS_URL") != "":
		b.System = "jenkins"
		b.URL = getenv("BUILD_URL")
		b.Job = getenv("JOB_NAME")
		b.Number = getenv("BUILD_NUMBER")
		b.Commit = getenv("GIT_COMMIT")
	}
	if p := getenv(ParamsEnv); p != "" {
		if h, err := ParamsHash([]byte(p)); err == nil {
			b.ParamsHash = h
		}
	}
	return b.sanitized()
}

// sanitized drops the fields that would not validate.
func (b Build) sanitized() Build {
	if (&Build{URL: b.URL}).Validate() != nil {
		b.URL = ""
	}
	if (&Build{Job: b.Job}).Validate() != nil {
		b.Job = ""
	}
	if (&Build{Number: b.Number}).Validate() != nil {
		b.Number = ""
	}
	if (&Build{Commit: b.Commit}).Validate() != nil {
		b.Commit = ""
	}
	if (&Build{ParamsHash: b.ParamsHash}).Validate() != nil {
		b.ParamsHash = ""
	}
	return b
}

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

// ParamsHash hashes build parameters given as a JSON object: "sha256:" and
// the hex SHA-256 of the canonical form, one "name=value" line per
// parameter in byte order of the names, values as their JSON text (strings
// unquoted). Equal parameters give equal hashes whatever the order or
// spacing of the input.
func ParamsHash(data []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return "", errors.New("build parameters must be a JSON object")
	}
	if dec.More() {
		return "", errors.New("build parameters must be one JSON object")
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, k := range names {
		var v string
		switch x := m[k].(type) {
		case string:
			v = x
		default:
			b, err := json.Marshal(x)
			if err != nil {
				return "", err
			}
			v = string(b)
		}
		fmt.Fprintf(h, "%s=%s\n", strings.ReplaceAll(k, "\n", `\n`), strings.ReplaceAll(v, "\n", `\n`))
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// githubInputsHash hashes the inputs of a workflow_dispatch event, or
// returns "" if the event has none.
func githubInputsHash(event []byte) string {
	var ev struct {
		Inputs json.RawMessage `json:"inputs"`
	}
	if err := json.Unmarshal(event, &ev); err != nil || len(ev.Inputs) == 0 || string(ev.Inputs) == "null" {
		return ""
	}
	h, err := ParamsHash(ev.Inputs)
	if err != nil {
		return ""
	}
	return h
}
