package iam

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Constraints from botocore's iam service-2.json. Patterns are anchored: the
// model's patterns describe the whole value.
var (
	reName        = regexp.MustCompile(`^[\w+=,.@-]+$`)
	rePath        = regexp.MustCompile(`^(?:/|/[\x21-\x7E]+/)$`)
	rePolicyPath  = regexp.MustCompile(`^(?:/[A-Za-z0-9.,+@=_-]+)*/$`)
	rePathPrefix  = regexp.MustCompile(`^/[\x21-\x7F]*$`)
	reTagKey      = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$`)
	reTagValue    = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
	reRoleDesc    = regexp.MustCompile(`^[\x09\x0A\x0D\x20-\x7E\x{A1}-\x{FF}]*$`)
	rePolicyDoc   = regexp.MustCompile(`^[\x09\x0A\x0D\x20-\x{FF}]+$`)
	reSerial      = regexp.MustCompile(`^[\w+=/:,.@-]+$`)
	reAuthCode    = regexp.MustCompile(`^\d+$`)
	reVersionID   = regexp.MustCompile(`^v[1-9][0-9]*(?:\.[A-Za-z0-9-]*)?$`)
	reAccessKeyID = regexp.MustCompile(`^\w+$`)
)

// Lengths from the model's shapes.
const (
	maxUserName         = 64  // userNameType
	maxExistingUserName = 128 // existingUserNameType
	maxGroupName        = 128 // groupNameType
	maxRoleName         = 64  // roleNameType
	maxPolicyName       = 128 // policyNameType
	maxMFAName          = 226 // so that the serial ("arn:aws:iam::ACCOUNT:mfa/" + name) fits serialNumberType's 256
	maxPath             = 512
	maxDescription      = 1000
	maxPolicyDocument   = 131072
	maxTags             = 50
	minARN, maxARN      = 20, 2048
)

func checkLen(value, field string, min, max int) error {
	n := utf8.RuneCountInString(value)
	if n < min {
		return validationf(value, field, fmt.Sprintf("Member must have length greater than or equal to %d", min))
	}
	if max > 0 && n > max {
		return validationf(value, field, fmt.Sprintf("Member must have length less than or equal to %d", max))
	}
	return nil
}

func checkPattern(value, field string, re *regexp.Regexp, pattern string) error {
	if !re.MatchString(value) {
		return validationf(value, field, "Member must satisfy regular expression pattern: "+pattern)
	}
	return nil
}

func checkName(value, field string, max int) error {
	if value == "" {
		return validationNull(field)
	}
	if err := checkLen(value, field, 1, max); err != nil {
		return err
	}
	return checkPattern(value, field, reName, `[\w+=,.@-]+`)
}

// checkPath validates an entity path (pathType); "" means the default "/".
func checkPath(value, field string) (string, error) {
	if value == "" {
		return "/", nil
	}
	if err := checkLen(value, field, 1, maxPath); err != nil {
		return "", err
	}
	return value, checkPattern(value, field, rePath, `(\u002F)|(\u002F[\u0021-\u007E]+\u002F)`)
}

func checkPolicyPath(value, field string) (string, error) {
	if value == "" {
		return "/", nil
	}
	if err := checkLen(value, field, 1, maxPath); err != nil {
		return "", err
	}
	return value, checkPattern(value, field, rePolicyPath, `((/[A-Za-z0-9\.,\+@=_-]+)*)/`)
}

// CheckPathPrefix validates the PathPrefix of the List operations
// (pathPrefixType); "" means every path.
func CheckPathPrefix(value string) error {
	if value == "" {
		return nil
	}
	if err := checkLen(value, "pathPrefix", 1, maxPath); err != nil {
		return err
	}
	return checkPattern(value, "pathPrefix", rePathPrefix, `\u002F[\u0021-\u007F]*`)
}

func checkDocument(doc, field string) error {
	if doc == "" {
		return validationNull(field)
	}
	if err := checkLen(doc, field, 1, maxPolicyDocument); err != nil {
		return err
	}
	if !rePolicyDoc.MatchString(doc) {
		// The document itself is not echoed: it may be long.
		return newErr(ErrValidation, "1 validation error detected: Value at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+", field)
	}
	return nil
}

func checkRoleDescription(value string) error {
	if err := checkLen(value, "description", 0, maxDescription); err != nil {
		return err
	}
	return checkPattern(value, "description", reRoleDesc, `[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*`)
}

func checkSerial(value string) error {
	if value == "" {
		return validationNull("serialNumber")
	}
	if err := checkLen(value, "serialNumber", 9, 256); err != nil {
		return err
	}
	return checkPattern(value, "serialNumber", reSerial, `[\w+=/:,.@-]+`)
}

func checkAuthCode(value, field string) error {
	if value == "" {
		return validationNull(field)
	}
	if err := checkLen(value, field, 6, 6); err != nil {
		return err
	}
	return checkPattern(value, field, reAuthCode, `[\d]+`)
}

func checkVersionID(value string) error {
	if value == "" {
		return validationNull("versionId")
	}
	return checkPattern(value, "versionId", reVersionID, `v[1-9][0-9]*(\.[A-Za-z0-9-]*)?`)
}

func checkAccessKeyID(value string) error {
	if value == "" {
		return validationNull("accessKeyId")
	}
	if err := checkLen(value, "accessKeyId", 16, 128); err != nil {
		return err
	}
	return checkPattern(value, "accessKeyId", reAccessKeyID, `[\w]+`)
}

func checkARN(value, field string) error {
	if value == "" {
		return validationNull(field)
	}
	return checkLen(value, field, minARN, maxARN)
}

// checkTags validates a tag list as TagUser, TagRole and the Create
// operations take it: model constraints, no reserved "aws:" prefix, no key
// given twice (keys compare without regard to case, as in IAM).
func checkTags(tags []Tag) error {
	if len(tags) > maxTags {
		return validationf(fmt.Sprintf("%d tags", len(tags)), "tags", fmt.Sprintf("Member must have length less than or equal to %d", maxTags))
	}
	seen := make(map[string]bool, len(tags))
	for i, t := range tags {
		kf := fmt.Sprintf("tags.%d.member.key", i+1)
		vf := fmt.Sprintf("tags.%d.member.value", i+1)
		if t.Key == "" {
			return validationNull(kf)
		}
		if err := checkLen(t.Key, kf, 1, 128); err != nil {
			return err
		}
		if err := checkPattern(t.Key, kf, reTagKey, `[\p{L}\p{Z}\p{N}_.:/=+\-@]+`); err != nil {
			return err
		}
		if err := checkLen(t.Value, vf, 0, 256); err != nil {
			return err
		}
		if err := checkPattern(t.Value, vf, reTagValue, `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`); err != nil {
			return err
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return newErr(ErrInvalidInput, "User-defined tag keys can't start with 'aws:'. This prefix is reserved for AWS tags.")
		}
		k := strings.ToLower(t.Key)
		if seen[k] {
			return newErr(ErrInvalidInput, "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[k] = true
	}
	return nil
}

func checkTagKeys(keys []string) error {
	if len(keys) == 0 {
		return validationNull("tagKeys")
	}
	if len(keys) > maxTags {
		return validationf(fmt.Sprintf("%d keys", len(keys)), "tagKeys", fmt.Sprintf("Member must have length less than or equal to %d", maxTags))
	}
	for i, k := range keys {
		f := fmt.Sprintf("tagKeys.%d.member", i+1)
		if err := checkLen(k, f, 1, 128); err != nil {
			return err
		}
		if err := checkPattern(k, f, reTagKey, `[\p{L}\p{Z}\p{N}_.:/=+\-@]+`); err != nil {
			return err
		}
	}
	return nil
}

// mergeTags applies add to have: a key already present (without regard to
// case) gets the new key spelling and value; new keys are appended. It
// fails with LimitExceeded past 50 tags.
func mergeTags(have, add []Tag) ([]Tag, error) {
	out := append([]Tag(nil), have...)
	for _, t := range add {
		replaced := false
		for i := range out {
			if strings.EqualFold(out[i].Key, t.Key) {
				out[i] = t
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, t)
		}
	}
	if len(out) > maxTags {
		return nil, newErr(ErrLimitExceeded, "The number of tags has reached the maximum limit.")
	}
	return out, nil
}

func removeTags(have []Tag, keys []string) []Tag {
	out := have[:0:0]
	for _, t := range have {
		drop := false
		for _, k := range keys {
			if strings.EqualFold(t.Key, k) {
				drop = true
				break
			}
		}
		if !drop {
			out = append(out, t)
		}
	}
	return out
}

// policySize is the size IAM counts against its policy quotas: characters,
// white space excluded.
func policySize(doc string) int {
	n := 0
	for _, r := range doc {
		switch r {
		case ' ', '\t', '\n', '\r':
		default:
			n++
		}
	}
	return n
}
