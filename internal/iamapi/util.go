package iamapi

import (
	"context"
	"strings"

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/rpc"
)

// --- pagination ------------------------------------------------------------

// Default and bounds of MaxItems (botocore maxItemsType).
const (
	defaultMaxItems = 100
	maxMaxItems     = 1000
)

// iamMarker is the Marker of IAM's list operations.
var iamMarker = rpc.PageToken{Prefix: "sf1:", Bad: awsapi.Errorf(awsapi.CodeValidation,
	"1 validation error detected: Value at 'marker' failed to satisfy constraint: Member must be a marker returned by a previous call")}

// pageOf cuts one page out of a full list by the request's Marker and
// MaxItems (package rpc's paging).
func pageOf[T any](p *awsapi.Params, items []T) (page []T, truncated bool, next string, err error) {
	max, err := p.Int("MaxItems", defaultMaxItems, 1, maxMaxItems)
	if err != nil {
		return nil, false, "", err
	}
	start := 0
	if m, ok := p.Lookup("Marker"); ok {
		if start, err = iamMarker.Decode(m); err != nil {
			return nil, false, "", err
		}
	}
	page, pos := rpc.CutPage(items, start, int(max))
	if pos < 0 {
		return page, false, "", nil
	}
	return page, true, iamMarker.Encode(pos), nil
}

// listPage cuts the request's page out of items and makes the result of
// it with result.
func listPage[T any](p *awsapi.Params, items []T, result func(page []T, lr listResult) any) (any, error) {
	page, more, next, err := pageOf(p, items)
	if err != nil {
		return nil, err
	}
	return result(page, listResult{more, next}), nil
}

// handleListByPath is ListUsers, ListGroups and ListRoles: the entities
// whose path starts with PathPrefix, authorized on the ARN of the type
// with that prefix (listResource), a page at a time.
func handleListByPath[T any](svc *iam.Service, action, resourceType string, list func(context.Context, string) ([]T, error), result func(page []T, lr listResult) any) rpc.Handler {
	prefixTarget := func(ctx context.Context, r *rpc.Request, action string, keys map[string][]string) (string, error) {
		prefix := r.Params.String("PathPrefix")
		if err := iam.CheckPathPrefix(prefix); err != nil {
			return "", err
		}
		return prefix, r.Authorize(ctx, action, listResource(svc, resourceType, prefix), keys)
	}
	return handleList(prefixTarget, action, list, result)
}

// membersOf is the list member of items, each written as x makes it.
func membersOf[T, X any](items []T, x func(*T) X) awsapi.Members[X] {
	out := make(awsapi.Members[X], len(items))
	for i := range items {
		out[i] = x(&items[i])
	}
	return out
}

// --- documents ---------------------------------------------------------------

// encodeDocument URL-encodes a policy document as IAM returns it in
// responses (RFC 3986: every byte but A-Z a-z 0-9 - _ . ~ as %XX). The aws
// CLI and botocore decode it; SDK users call a URL decoder.
func encodeDocument(doc string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(doc) * 2)
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// --- request parameters --------------------------------------------------------

func tagsParam(p *awsapi.Params) []iam.Tag {
	var out []iam.Tag
	for _, t := range p.Tags("Tags") {
		out = append(out, iam.Tag{Key: t.Key, Value: t.Value})
	}
	return out
}

// tagConditionKeys are the condition keys of a request carrying tags:
// aws:TagKeys and aws:RequestTag/KEY.
func tagConditionKeys(tags []iam.Tag) map[string][]string {
	if len(tags) == 0 {
		return nil
	}
	m := map[string][]string{}
	for _, t := range tags {
		m["aws:TagKeys"] = append(m["aws:TagKeys"], t.Key)
		m["aws:RequestTag/"+t.Key] = []string{t.Value}
	}
	return m
}

// refuseBoundary rejects PermissionsBoundary: the broker does not
// implement permissions boundaries, and ignoring one would grant more than
// its author meant.
func refuseBoundary(p *awsapi.Params) error {
	if p.Has("PermissionsBoundary") {
		return awsapi.Errorf(awsapi.CodeInvalidInput, "Permissions boundaries are not supported by this broker.")
	}
	return nil
}

// userNameOrCaller returns the UserName parameter, or the calling user's
// name when it is absent, as IAM does for operations on one's own user.
func userNameOrCaller(r *rpc.Request) (string, error) {
	if name := r.Params.String("UserName"); name != "" {
		return name, nil
	}
	if r.Caller == nil || r.Caller.UserName == "" {
		return "", awsapi.Errorf(awsapi.CodeValidation, "Must specify userName when calling with non-User credentials")
	}
	return r.Caller.UserName, nil
}

func required(p *awsapi.Params, names ...string) ([]string, error) {
	out := make([]string, len(names))
	for i, n := range names {
		v, err := p.Required(n)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// --- authorization ---------------------------------------------------------------

// listResource is the resource IAM authorizes List operations on: the ARN
// of the entity type with the requested path prefix
// ("arn:aws:iam::ACCOUNT:user/").
func listResource(svc *iam.Service, resourceType, pathPrefix string) string {
	return "arn:aws:iam::" + svc.Account() + ":" + resourceType + arnPath(pathPrefix)
}

// arnPath is the path in an ARN of a request's Path (or PathPrefix): "/"
// when the request gives none.
func arnPath(path string) string {
	if path == "" {
		return "/"
	}
	return path
}

// --- shapes ----------------------------------------------------------------------

// xmlUser is botocore's User shape.
type xmlUser struct {
	Path       string      `xml:"Path"`
	UserName   string      `xml:"UserName"`
	UserID     string      `xml:"UserId"`
	Arn        string      `xml:"Arn"`
	CreateDate awsapi.Time `xml:"CreateDate"`
	// PasswordLastUsed is sent only for a user who has signed in with a
	// password (GetUser, ListUsers), as IAM sends it.
	PasswordLastUsed *awsapi.Time               `xml:"PasswordLastUsed,omitempty"`
	Tags             awsapi.Members[awsapi.Tag] `xml:"Tags,omitempty"`
}

func userXML(u *iam.User, withTags bool) xmlUser {
	x := xmlUser{Path: u.Path, UserName: u.Name, UserID: u.ID, Arn: u.ARN, CreateDate: awsapi.Time(u.CreateDate)}
	if !u.PasswordLastUsed.IsZero() {
		t := awsapi.Time(u.PasswordLastUsed)
		x.PasswordLastUsed = &t
	}
	if withTags {
		x.Tags = tagsXML(u.Tags)
	}
	return x
}

// userSummary is a user as lists write it: without tags.
func userSummary(u *iam.User) xmlUser { return userXML(u, false) }

func usersXML(us []iam.User) awsapi.Members[xmlUser] { return membersOf(us, userSummary) }

func tagsXML(tags []iam.Tag) awsapi.Members[awsapi.Tag] {
	if len(tags) == 0 {
		return nil
	}
	return allTagsXML(tags)
}

// allTagsXML is tagsXML for results whose Tags member is required: an
// empty list is written as an empty element.
func allTagsXML(tags []iam.Tag) awsapi.Members[awsapi.Tag] {
	return membersOf(tags, func(t *iam.Tag) awsapi.Tag { return awsapi.Tag{Key: t.Key, Value: t.Value} })
}

// xmlGroup is botocore's Group shape.
type xmlGroup struct {
	Path       string      `xml:"Path"`
	GroupName  string      `xml:"GroupName"`
	GroupID    string      `xml:"GroupId"`
	Arn        string      `xml:"Arn"`
	CreateDate awsapi.Time `xml:"CreateDate"`
}

func groupXML(g *iam.Group) xmlGroup {
	return xmlGroup{Path: g.Path, GroupName: g.Name, GroupID: g.ID, Arn: g.ARN, CreateDate: awsapi.Time(g.CreateDate)}
}

func groupsXML(gs []iam.Group) awsapi.Members[xmlGroup] { return membersOf(gs, groupXML) }

// xmlRole is botocore's Role shape. AssumeRolePolicyDocument is URL-encoded,
// as IAM sends it.
type xmlRole struct {
	Path                     string                     `xml:"Path"`
	RoleName                 string                     `xml:"RoleName"`
	RoleID                   string                     `xml:"RoleId"`
	Arn                      string                     `xml:"Arn"`
	CreateDate               awsapi.Time                `xml:"CreateDate"`
	AssumeRolePolicyDocument string                     `xml:"AssumeRolePolicyDocument,omitempty"`
	Description              string                     `xml:"Description,omitempty"`
	MaxSessionDuration       int32                      `xml:"MaxSessionDuration,omitempty"`
	Tags                     awsapi.Members[awsapi.Tag] `xml:"Tags,omitempty"`
	// RoleLastUsed is GetRole's only: {} for a role never used, as IAM
	// answers for such a role.
	RoleLastUsed *xmlRoleLastUsed `xml:"RoleLastUsed"`
}

// xmlRoleLastUsed is botocore's RoleLastUsed shape.
type xmlRoleLastUsed struct {
	LastUsedDate *awsapi.Time `xml:"LastUsedDate,omitempty"`
	Region       string       `xml:"Region,omitempty"`
}

func roleXML(r *iam.Role, withTags bool) xmlRole {
	x := xmlRole{
		Path: r.Path, RoleName: r.Name, RoleID: r.ID, Arn: r.ARN, CreateDate: awsapi.Time(r.CreateDate),
		AssumeRolePolicyDocument: encodeDocument(r.AssumeRolePolicyDocument),
		Description:              r.Description, MaxSessionDuration: r.MaxSessionDuration,
	}
	if withTags {
		x.Tags = tagsXML(r.Tags)
	}
	return x
}

// listResult is the tail every paginated IAM result shares.
type listResult struct {
	IsTruncated bool   `xml:"IsTruncated"`
	Marker      string `xml:"Marker,omitempty"`
}
