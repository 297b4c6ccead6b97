package iam

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shortfuse/shortfuse/internal/arn"
	"github.com/shortfuse/shortfuse/internal/fault"
	"github.com/shortfuse/shortfuse/internal/policy"
)

// ManagedPolicy is a managed policy's metadata.
type ManagedPolicy struct {
	Name, ID, ARN, Path, Description string
	DefaultVersionID                 string
	AttachmentCount                  int
	CreateDate, UpdateDate           time.Time
	Tags                             []Tag
	AWSManaged                       bool
}

// PolicyVersion is one version of a managed policy.
type PolicyVersion struct {
	VersionID  string
	Document   string
	IsDefault  bool
	CreateDate time.Time
}

// AttachedPolicy names a managed policy attached to a principal.
type AttachedPolicy struct{ Name, ARN string }

// EntityRef names a principal a managed policy is attached to.
type EntityRef struct{ Name, ID string }

// PolicyEntities lists the principals a managed policy is attached to.
type PolicyEntities struct {
	Users, Groups, Roles []EntityRef
}

// CreatePolicyInput is the input of CreatePolicy.
type CreatePolicyInput struct {
	Name        string
	Path        string // "" means "/"
	Document    string
	Description string
	Tags        []Tag
}

// ListPoliciesInput filters ListPolicies.
type ListPoliciesInput struct {
	Scope        string // "All" (or ""), "AWS", "Local"
	OnlyAttached bool
	PathPrefix   string
}

// awsAccount is the account of AWS managed policies in their ARNs
// (arn:aws:iam::aws:policy/...).
const awsAccount = "aws"

// AdministratorAccessARN is the ARN of the AWS managed policy that allows
// everything.
const AdministratorAccessARN = "arn:aws:iam::aws:policy/AdministratorAccess"

func policyKey(account, name string) string {
	if account == awsAccount {
		return "aws/" + nameKey(name)
	}
	return "local/" + nameKey(name)
}

// checkIdentityDocument validates an identity policy: the model's
// constraints, then the parser.
func (s *Service) checkIdentityDocument(doc, field string) error {
	if err := checkDocument(doc, field); err != nil {
		return err
	}
	_, err := s.parse(doc, policy.KindIdentity)
	return err
}

func (s *Service) checkManagedDocument(doc string) error {
	if err := checkDocument(doc, "policyDocument"); err != nil {
		return err
	}
	if policySize(doc) > maxManagedPolicySize {
		return newErr(ErrLimitExceeded, "Cannot exceed quota for PolicySize: %d", maxManagedPolicySize)
	}
	_, err := s.parse(doc, policy.KindIdentity)
	return err
}

// parsePolicyARN returns the store key of the managed policy named by a
// syntactically valid ARN. The name compares without regard to case; the
// caller still checks the stored ARN's path.
func (s *Service) parsePolicyARN(policyARN string) (key string, err error) {
	if err := checkARN(policyARN, "policyArn"); err != nil {
		return "", err
	}
	p, perr := arn.Parse(policyARN)
	if perr != nil || p.Service != "iam" || p.Region != "" || !strings.HasPrefix(p.Resource, "policy/") {
		return "", newErr(ErrInvalidInput, "ARN %s is not valid.", fault.Printable(policyARN, 128))
	}
	if p.Partition != "aws" || (p.Account != s.account && p.Account != awsAccount) {
		return "", noSuchPolicy(policyARN)
	}
	name := p.Resource[strings.LastIndexByte(p.Resource, '/')+1:]
	if name == "" {
		return "", newErr(ErrInvalidInput, "ARN %s is not valid.", fault.Printable(policyARN, 128))
	}
	return policyKey(p.Account, name), nil
}

// policy loads a managed policy by ARN.
func (t *txn) policy(s *Service, policyARN string) (*policyRec, string, error) {
	key, err := s.parsePolicyARN(policyARN)
	if err != nil {
		return nil, "", err
	}
	rec, err := load(t, bucketPolicies, key, func(r *policyRec) bool { return sameEntityARN(r.ARN, policyARN) }, noSuchPolicy, policyARN)
	if err != nil {
		return nil, "", err
	}
	return rec, key, nil
}

// sameEntityARN reports whether given names the entity whose ARN is stored:
// everything but the final name compares exactly, the name without regard
// to case.
func sameEntityARN(stored, given string) bool {
	i := strings.LastIndexByte(stored, '/')
	return len(given) == len(stored) && given[:i+1] == stored[:i+1] && strings.EqualFold(given[i+1:], stored[i+1:])
}

func policyOut(r *policyRec) *ManagedPolicy {
	return &ManagedPolicy{
		Name: r.Name, ID: r.ID, ARN: r.ARN, Path: r.Path, Description: r.Description,
		DefaultVersionID: r.Default, AttachmentCount: len(r.Attachments),
		CreateDate: r.Created, UpdateDate: r.Updated, Tags: append([]Tag(nil), r.Tags...),
		AWSManaged: strings.HasPrefix(r.ARN, "arn:aws:iam::aws:"),
	}
}

func (r *policyRec) version(id string) (*versionRec, int) {
	for i := range r.Versions {
		if r.Versions[i].ID == id {
			return &r.Versions[i], i
		}
	}
	return nil, -1
}

func (r *policyRec) defaultDocument() string {
	if v, _ := r.version(r.Default); v != nil {
		return v.Document
	}
	return ""
}

func refuseAWSManaged(r *policyRec) error {
	if strings.HasPrefix(r.ARN, "arn:aws:iam::aws:") {
		return newErr(ErrInvalidInput, "Policy %s is an AWS managed policy and cannot be modified.", r.ARN)
	}
	return nil
}

// CreatePolicy creates a customer managed policy whose version v1 is
// the default.
func (s *Service) CreatePolicy(ctx context.Context, in CreatePolicyInput) (*ManagedPolicy, error) {
	if err := checkName(in.Name, "policyName", maxPolicyName); err != nil {
		return nil, err
	}
	path, err := checkPolicyPath(in.Path, "path")
	if err != nil {
		return nil, err
	}
	if err := checkLen(in.Description, "description", 0, maxDescription); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	if err := s.checkManagedDocument(in.Document); err != nil {
		return nil, err
	}
	id, err := s.newID("ANPA")
	if err != nil {
		return nil, err
	}
	now := s.timestamp()
	rec := &policyRec{
		Name: in.Name, ID: id, Path: path, ARN: s.PolicyARN(path, in.Name), Description: in.Description,
		Created: now, Updated: now, Default: "v1", NextVersion: 2, Tags: in.Tags,
		Versions: []versionRec{{ID: "v1", Document: in.Document, Created: now}},
	}
	key := policyKey(s.account, in.Name)
	err = s.update(ctx, func(t *txn) error {
		return insertNew(t, bucketPolicies, key, rec, newErr(ErrEntityAlreadyExists, "A policy called %s already exists. Duplicate names are not allowed.", in.Name))
	})
	if err != nil {
		return nil, err
	}
	return policyOut(rec), nil
}

// GetPolicy returns a managed policy's metadata.
func (s *Service) GetPolicy(ctx context.Context, policyARN string) (*ManagedPolicy, error) {
	return readPolicy(ctx, s, policyARN, func(rec *policyRec) (*ManagedPolicy, error) { return policyOut(rec), nil })
}

// readPolicy returns what fn makes of a managed policy, in a read
// transaction.
func readPolicy[T any](ctx context.Context, s *Service, policyARN string, fn func(rec *policyRec) (T, error)) (T, error) {
	load := func(t *txn) (*policyRec, error) {
		rec, _, err := t.policy(s, policyARN)
		return rec, err
	}
	return readFrom(ctx, s, load, func(_ *txn, rec *policyRec) (T, error) { return fn(rec) })
}

// ListPolicies returns the managed policies that pass the filter: AWS
// managed ones first, then the account's, each ordered by name.
func (s *Service) ListPolicies(ctx context.Context, in ListPoliciesInput) ([]ManagedPolicy, error) {
	var prefixes []string
	switch in.Scope {
	case "", "All":
		prefixes = []string{"aws/", "local/"}
	case "AWS":
		prefixes = []string{"aws/"}
	case "Local":
		prefixes = []string{"local/"}
	default:
		return nil, validationf(in.Scope, "scope", "Member must satisfy enum value set: [All, AWS, Local]")
	}
	if in.PathPrefix != "" {
		if _, err := checkPolicyPath(in.PathPrefix, "pathPrefix"); err != nil {
			return nil, err
		}
	}
	return read(ctx, s, func(t *txn) ([]ManagedPolicy, error) {
		var out []ManagedPolicy
		for _, prefix := range prefixes {
			err := scanAll(t, bucketPolicies, prefix, func(_ string, rec *policyRec) error {
				if in.OnlyAttached && len(rec.Attachments) == 0 {
					return nil
				}
				if !strings.HasPrefix(rec.Path, in.PathPrefix) {
					return nil
				}
				out = append(out, *policyOut(rec))
				return nil
			})
			if err != nil {
				return out, err
			}
		}
		return out, nil
	})
}

// DeletePolicy deletes a customer managed policy that is attached to
// nothing and has no version but its default one.
func (s *Service) DeletePolicy(ctx context.Context, policyARN string) error {
	return s.updateCustomerPolicy(ctx, policyARN, func(t *txn, rec *policyRec, key string) error {
		if len(rec.Attachments) > 0 {
			return newErr(ErrDeleteConflict, "Cannot delete a policy attached to entities.")
		}
		if len(rec.Versions) > 1 {
			return newErr(ErrDeleteConflict, "This policy has more than one version. Before you delete a policy, you must delete the policy's non-default versions.")
		}
		return t.del(bucketPolicies, key)
	})
}

// CreatePolicyVersion adds a version to a customer managed policy (at most
// five), making it the default if setDefault.
func (s *Service) CreatePolicyVersion(ctx context.Context, policyARN, doc string, setDefault bool) (*PolicyVersion, error) {
	if _, err := s.parsePolicyARN(policyARN); err != nil {
		return nil, err
	}
	if err := s.checkManagedDocument(doc); err != nil {
		return nil, err
	}
	now := s.timestamp()
	var out *PolicyVersion
	err := s.update(ctx, func(t *txn) error {
		rec, key, err := t.policy(s, policyARN)
		if err != nil {
			return err
		}
		if err := refuseAWSManaged(rec); err != nil {
			return err
		}
		if len(rec.Versions) >= maxVersionsPerPolicy {
			return newErr(ErrLimitExceeded, "A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", maxVersionsPerPolicy)
		}
		v := versionRec{ID: "v" + strconv.Itoa(rec.NextVersion), Document: doc, Created: now}
		rec.NextVersion++
		rec.Versions = append(rec.Versions, v)
		if setDefault {
			rec.Default = v.ID
			rec.Updated = now
		}
		out = &PolicyVersion{VersionID: v.ID, Document: v.Document, IsDefault: setDefault, CreateDate: now}
		return t.put(bucketPolicies, key, rec)
	})
	return out, err
}

func noSuchVersion(policyARN, vid string) *Error {
	return newErr(ErrNoSuchEntity, "Policy %s version %s does not exist or is not attachable.", policyARN, vid)
}

// GetPolicyVersion returns one version of a managed policy.
func (s *Service) GetPolicyVersion(ctx context.Context, policyARN, vid string) (*PolicyVersion, error) {
	if err := checkVersionID(vid); err != nil {
		return nil, err
	}
	return readPolicy(ctx, s, policyARN, func(rec *policyRec) (*PolicyVersion, error) {
		v, _ := rec.version(vid)
		if v == nil {
			return nil, noSuchVersion(policyARN, vid)
		}
		return rec.versionOut(v), nil
	})
}

func (rec *policyRec) versionOut(v *versionRec) *PolicyVersion {
	return &PolicyVersion{VersionID: v.ID, Document: v.Document, IsDefault: v.ID == rec.Default, CreateDate: v.Created}
}

// ListPolicyVersions returns the versions of a managed policy, newest first.
func (s *Service) ListPolicyVersions(ctx context.Context, policyARN string) ([]PolicyVersion, error) {
	return readPolicy(ctx, s, policyARN, func(rec *policyRec) ([]PolicyVersion, error) {
		var out []PolicyVersion
		for i := len(rec.Versions) - 1; i >= 0; i-- {
			out = append(out, *rec.versionOut(&rec.Versions[i]))
		}
		return out, nil
	})
}

// DeletePolicyVersion deletes a version that is not the default.
func (s *Service) DeletePolicyVersion(ctx context.Context, policyARN, vid string) error {
	if err := checkVersionID(vid); err != nil {
		return err
	}
	return s.updateCustomerPolicy(ctx, policyARN, func(t *txn, rec *policyRec, key string) error {
		v, i := rec.version(vid)
		if v == nil {
			return noSuchVersion(policyARN, vid)
		}
		if v.ID == rec.Default {
			return newErr(ErrDeleteConflict, "Cannot delete the default version of a policy.")
		}
		rec.Versions = append(rec.Versions[:i:i], rec.Versions[i+1:]...)
		return t.put(bucketPolicies, key, rec)
	})
}

// SetDefaultPolicyVersion makes a version the one in force.
func (s *Service) SetDefaultPolicyVersion(ctx context.Context, policyARN, vid string) error {
	if err := checkVersionID(vid); err != nil {
		return err
	}
	now := s.timestamp()
	return s.updateCustomerPolicy(ctx, policyARN, func(t *txn, rec *policyRec, key string) error {
		if v, _ := rec.version(vid); v == nil {
			return noSuchVersion(policyARN, vid)
		}
		rec.Default = vid
		rec.Updated = now
		return t.put(bucketPolicies, key, rec)
	})
}

// --- attachments -----------------------------------------------------------

func attachQuotaName(kind EntityKind) string {
	switch kind {
	case KindUser:
		return "PoliciesPerUser"
	case KindGroup:
		return "PoliciesPerGroup"
	}
	return "PoliciesPerRole"
}

// AttachPolicy attaches a managed policy to a user, group or role; attaching
// it again changes nothing.
func (s *Service) AttachPolicy(ctx context.Context, kind EntityKind, entity, policyARN string) error {
	if err := checkEntityName(kind, entity); err != nil {
		return err
	}
	if err := checkARN(policyARN, "policyArn"); err != nil {
		return err
	}
	if _, err := arn.Parse(policyARN); err != nil {
		return errARNUnparsable
	}
	if _, err := s.parsePolicyARN(policyARN); err != nil {
		return attachError(err, policyARN)
	}
	policyErr := func(err error) error { return attachError(err, policyARN) }
	return s.changeAttachment(ctx, kind, entity, policyARN, policyErr, func(p *principal, rec *policyRec) (bool, error) {
		if contains(p.h.Attached, rec.ARN) {
			return false, nil
		}
		if len(p.h.Attached) >= maxAttachedPerEntity {
			return false, newErr(ErrLimitExceeded, "Cannot exceed quota for %s: %d", attachQuotaName(kind), maxAttachedPerEntity)
		}
		p.h.Attached = append(p.h.Attached, rec.ARN)
		rec.Attachments = append(rec.Attachments, attachRef{Kind: kind, Key: p.key})
		return true, nil
	})
}

// changeAttachment has change change, in one transaction, the principal
// kind entity and the managed policy policyARN, and saves both if it
// reports a change. policyErr words an error finding the policy.
func (s *Service) changeAttachment(ctx context.Context, kind EntityKind, entity, policyARN string, policyErr func(error) error, change func(p *principal, rec *policyRec) (bool, error)) error {
	return s.update(ctx, func(t *txn) error {
		p, err := t.principal(kind, entity)
		if err != nil {
			return err
		}
		rec, key, err := t.policy(s, policyARN)
		if err != nil {
			return policyErr(err)
		}
		changed, err := change(p, rec)
		if err != nil || !changed {
			return err
		}
		if err := p.save(t); err != nil {
			return err
		}
		return t.put(bucketPolicies, key, rec)
	})
}

// attachError words a missing policy as Attach{User,Group,Role}Policy
// does.
func attachError(err error, policyARN string) error {
	if errors.Is(err, ErrNoSuchEntity) {
		return notAttachable(policyARN)
	}
	return err
}

// DetachPolicy detaches a managed policy from a user, group or role.
func (s *Service) DetachPolicy(ctx context.Context, kind EntityKind, entity, policyARN string) error {
	if err := checkEntityName(kind, entity); err != nil {
		return err
	}
	if _, err := s.parsePolicyARN(policyARN); err != nil {
		return err
	}
	keep := func(err error) error { return err }
	return s.changeAttachment(ctx, kind, entity, policyARN, keep, func(p *principal, rec *policyRec) (bool, error) {
		if !contains(p.h.Attached, rec.ARN) {
			return false, newErr(ErrNoSuchEntity, "Policy %s was not found.", rec.ARN)
		}
		p.h.Attached = remove(p.h.Attached, rec.ARN)
		kept := rec.Attachments[:0:0]
		for _, a := range rec.Attachments {
			if a.Kind != kind || a.Key != p.key {
				kept = append(kept, a)
			}
		}
		rec.Attachments = kept
		return true, nil
	})
}

// policyPathOf returns the path part of a managed policy ARN.
func policyPathOf(policyARN string) string {
	_, res, ok := strings.Cut(policyARN, ":policy")
	if !ok {
		return "/"
	}
	return res[:strings.LastIndexByte(res, '/')+1]
}

func policyNameOf(policyARN string) string {
	return policyARN[strings.LastIndexByte(policyARN, '/')+1:]
}

// ListAttachedPolicies returns the managed policies attached to a user,
// group or role whose path starts with pathPrefix, in attach order.
func (s *Service) ListAttachedPolicies(ctx context.Context, kind EntityKind, entity, pathPrefix string) ([]AttachedPolicy, error) {
	if err := checkEntityName(kind, entity); err != nil {
		return nil, err
	}
	if pathPrefix != "" {
		if _, err := checkPolicyPath(pathPrefix, "pathPrefix"); err != nil {
			return nil, err
		}
	}
	return readPrincipal(ctx, s, kind, entity, func(_ *txn, p *principal) ([]AttachedPolicy, error) {
		var out []AttachedPolicy
		for _, a := range p.h.Attached {
			if strings.HasPrefix(policyPathOf(a), pathPrefix) {
				out = append(out, AttachedPolicy{Name: policyNameOf(a), ARN: a})
			}
		}
		return out, nil
	})
}

// renameAttachment follows a principal's rename in a policy's attachments.
func (t *txn) renameAttachment(policyARN string, kind EntityKind, oldKey, newKey string) error {
	p, err := arn.Parse(policyARN)
	if err != nil {
		return fmt.Errorf("iam: stored policy ARN does not parse: %w", err)
	}
	key := policyKey(p.Account, policyNameOf(policyARN))
	rec := new(policyRec)
	ok, err := t.get(bucketPolicies, key, rec)
	if err != nil || !ok {
		return err
	}
	for i, a := range rec.Attachments {
		if a.Kind == kind && a.Key == oldKey {
			rec.Attachments[i].Key = newKey
		}
	}
	return t.put(bucketPolicies, key, rec)
}

// ListEntitiesForPolicy returns the principals a managed policy is attached
// to, each list ordered by name. filter (0 for all) keeps one kind;
// pathPrefix keeps principals whose path starts with it.
func (s *Service) ListEntitiesForPolicy(ctx context.Context, policyARN string, filter EntityKind, pathPrefix string) (*PolicyEntities, error) {
	if pathPrefix != "" {
		if _, err := checkPath(pathPrefix, "pathPrefix"); err != nil {
			return nil, err
		}
	}
	out := new(PolicyEntities)
	err := s.view(ctx, func(t *txn) error {
		rec, _, err := t.policy(s, policyARN)
		if err != nil {
			return err
		}
		*out = PolicyEntities{}
		for _, a := range rec.Attachments {
			if filter != 0 && a.Kind != filter {
				continue
			}
			p, ok, err := t.principalByKey(a.Kind, a.Key)
			if err != nil {
				return err
			}
			if !ok || !strings.HasPrefix(p.e.Path, pathPrefix) {
				continue
			}
			ref := EntityRef{Name: p.e.Name, ID: p.e.ID}
			switch a.Kind {
			case KindUser:
				out.Users = append(out.Users, ref)
			case KindGroup:
				out.Groups = append(out.Groups, ref)
			case KindRole:
				out.Roles = append(out.Roles, ref)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, l := range [][]EntityRef{out.Users, out.Groups, out.Roles} {
		sort.Slice(l, func(i, j int) bool { return nameKey(l[i].Name) < nameKey(l[j].Name) })
	}
	return out, nil
}

// updateCustomerPolicy runs fn on a customer managed policy in a write
// transaction; AWS managed policies are refused.
func (s *Service) updateCustomerPolicy(ctx context.Context, policyARN string, fn func(t *txn, rec *policyRec, key string) error) error {
	return s.update(ctx, func(t *txn) error {
		rec, key, err := t.policy(s, policyARN)
		if err != nil {
			return err
		}
		if err := refuseAWSManaged(rec); err != nil {
			return err
		}
		return fn(t, rec, key)
	})
}
