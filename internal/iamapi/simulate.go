package iamapi

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/policy"
	"github.com/shortfuse/shortfuse/internal/rpc"
)

// Source types of the simulator's inputs that are not attached policies.
const (
	sourceNone     = "none"
	sourceResource = "resource"
)

type xmlPosition struct {
	Line   int `xml:"Line"`
	Column int `xml:"Column"`
}

// xmlStatement is botocore's Statement shape (of the simulator).
type xmlStatement struct {
	SourcePolicyID   string       `xml:"SourcePolicyId"`
	SourcePolicyType string       `xml:"SourcePolicyType"`
	StartPosition    *xmlPosition `xml:"StartPosition,omitempty"`
	EndPosition      *xmlPosition `xml:"EndPosition,omitempty"`
}

type xmlBoundaryDetail struct {
	AllowedByPermissionsBoundary bool `xml:"AllowedByPermissionsBoundary"`
}

// xmlEvaluationResult is botocore's EvaluationResult shape.
type xmlEvaluationResult struct {
	EvalActionName                    string                       `xml:"EvalActionName"`
	EvalResourceName                  string                       `xml:"EvalResourceName"`
	EvalDecision                      string                       `xml:"EvalDecision"`
	MatchedStatements                 awsapi.Members[xmlStatement] `xml:"MatchedStatements"`
	MissingContextValues              awsapi.Members[string]       `xml:"MissingContextValues"`
	PermissionsBoundaryDecisionDetail *xmlBoundaryDetail           `xml:"PermissionsBoundaryDecisionDetail,omitempty"`
}

type simulatePolicyResult struct {
	EvaluationResults awsapi.Members[xmlEvaluationResult] `xml:"EvaluationResults"`
	listResult
}

// simSource is one policy the simulator evaluates, with what it reports
// about it.
type simSource struct {
	id, typ string
	doc     string
	p       *policy.Policy
}

// simulation is the input of one SimulatePrincipalPolicy or
// SimulateCustomPolicy call.
type simulation struct {
	identity  []simSource
	boundary  []simSource
	resource  []simSource
	actions   []string
	resources []string
	caller    string
	context   map[string][]string
}

// parseSimulation reads the members both simulate operations share.
func parseSimulation(p *awsapi.Params) (*simulation, error) {
	sim := &simulation{context: map[string][]string{}}
	sim.actions = p.Strings("ActionNames")
	if len(sim.actions) == 0 {
		return nil, awsapi.Errorf(awsapi.CodeValidation, "1 validation error detected: Value null at 'actionNames' failed to satisfy constraint: Member must not be null")
	}
	for i, a := range sim.actions {
		if n := len([]rune(a)); n < 3 || n > 128 {
			return nil, awsapi.Errorf(awsapi.CodeValidation, "1 validation error detected: Value '%s' at 'actionNames.%d.member' failed to satisfy constraint: Member must have length between 3 and 128", rpc.SafeText(a), i+1)
		}
	}
	sim.resources = p.Strings("ResourceArns")
	if len(sim.resources) == 0 {
		sim.resources = []string{"*"}
	}
	for i, doc := range p.Strings("PolicyInputList") {
		src, err := simParse(doc, "PolicyInputList."+strconv.Itoa(i+1), sourceNone, policy.KindIdentity)
		if err != nil {
			return nil, err
		}
		sim.identity = append(sim.identity, src)
	}
	for i, doc := range p.Strings("PermissionsBoundaryPolicyInputList") {
		src, err := simParse(doc, "PermissionsBoundaryPolicyInputList."+strconv.Itoa(i+1), sourceNone, policy.KindIdentity)
		if err != nil {
			return nil, err
		}
		sim.boundary = append(sim.boundary, src)
	}
	if doc, ok := p.Lookup("ResourcePolicy"); ok && doc != "" {
		src, err := simParse(doc, "ResourcePolicy", sourceResource, policy.KindResource)
		if err != nil {
			return nil, err
		}
		sim.resource = append(sim.resource, src)
	}
	sim.caller = p.String("CallerArn")
	for i, e := range p.Members("ContextEntries") {
		name := e.String("ContextKeyName")
		if n := len([]rune(name)); n < 5 || n > 256 {
			return nil, awsapi.Errorf(awsapi.CodeValidation, "1 validation error detected: Value '%s' at 'contextEntries.%d.member.contextKeyName' failed to satisfy constraint: Member must have length between 5 and 256", rpc.SafeText(name), i+1)
		}
		switch typ := e.String("ContextKeyType"); typ {
		case "", "string", "stringList", "numeric", "numericList", "boolean", "booleanList", "ip", "ipList", "binary", "binaryList", "date", "dateList":
		default:
			return nil, awsapi.Errorf(awsapi.CodeValidation, "1 validation error detected: Value '%s' at 'contextEntries.%d.member.contextKeyType' failed to satisfy constraint: Member must satisfy enum value set: [string, stringList, numeric, numericList, boolean, booleanList, ip, ipList, binary, binaryList, date, dateList]", rpc.SafeText(typ), i+1)
		}
		sim.context[name] = append(sim.context[name], e.Strings("ContextKeyValues")...)
	}
	return sim, nil
}

func simParse(doc, id, typ string, kind policy.Kind) (simSource, error) {
	p, err := policy.Parse([]byte(doc), kind)
	if err != nil {
		return simSource{}, err // *policy.MalformedError: MalformedPolicyDocument on the wire
	}
	return simSource{id: id, typ: typ, doc: doc, p: p}, nil
}

func labeledOf(srcs []simSource) []policy.Labeled {
	out := make([]policy.Labeled, len(srcs))
	for i, s := range srcs {
		out[i] = policy.Labeled{ID: s.id, Policy: s.p}
	}
	return out
}

// run evaluates every action on every resource, in that order.
func (sim *simulation) run(account string) []xmlEvaluationResult {
	byID := map[string]*simSource{}
	for _, set := range [][]simSource{sim.identity, sim.boundary, sim.resource} {
		for i := range set {
			byID[set[i].id] = &set[i]
		}
	}
	in := policy.Input{Identity: labeledOf(sim.identity), Resource: labeledOf(sim.resource)}
	boundary := labeledOf(sim.boundary)
	principal := &policy.Principal{Account: account}
	if sim.caller != "" {
		principal.AWS = []string{sim.caller}
	}
	spans := map[string][]stmtSpan{}
	var out []xmlEvaluationResult
	for _, action := range sim.actions {
		for _, resource := range sim.resources {
			req := &policy.Request{Action: action, Resource: resource, Principal: principal, Context: sim.context, Missing: true}
			res := policy.Authorize(req, in)
			decision := res.Decision
			var detail *xmlBoundaryDetail
			if len(boundary) > 0 {
				b := policy.Evaluate(req, boundary)
				detail = &xmlBoundaryDetail{AllowedByPermissionsBoundary: b.Decision == policy.Allow}
				switch {
				case b.Decision == policy.ExplicitDeny:
					decision = policy.ExplicitDeny
					res.Matched = append(res.Matched, b.Matched...)
				case decision == policy.Allow && b.Decision != policy.Allow:
					decision = policy.ImplicitDeny
				}
			}
			r := xmlEvaluationResult{
				EvalActionName: action, EvalResourceName: resource, EvalDecision: decision.String(),
				MatchedStatements:                 awsapi.Members[xmlStatement]{},
				MissingContextValues:              append(awsapi.Members[string]{}, res.MissingKeys...),
				PermissionsBoundaryDecisionDetail: detail,
			}
			// The statements reported are those that gave the decision:
			// the Allows of an allowed request, the Denies of a denied one.
			want := ""
			switch decision {
			case policy.Allow:
				want = "Allow"
			case policy.ExplicitDeny:
				want = "Deny"
			}
			for _, m := range res.Matched {
				if m.Effect != want {
					continue
				}
				st := xmlStatement{SourcePolicyID: m.PolicyID, SourcePolicyType: sourceNone}
				if src := byID[m.PolicyID]; src != nil {
					st.SourcePolicyType = src.typ
					sp, ok := spans[src.id]
					if !ok {
						sp = statementSpans(src.doc)
						spans[src.id] = sp
					}
					if m.Statement >= 0 && m.Statement < len(sp) {
						st.StartPosition, st.EndPosition = &sp[m.Statement].start, &sp[m.Statement].end
					}
				}
				r.MatchedStatements = append(r.MatchedStatements, st)
			}
			out = append(out, r)
		}
	}
	return out
}

func handleSimulatePrincipalPolicy(svc *iam.Service) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		source, err := r.Params.Required("PolicySourceArn")
		if err != nil {
			return nil, err
		}
		sim, err := parseSimulation(r.Params)
		if err != nil {
			return nil, err
		}
		if err := r.Authorize(ctx, "iam:SimulatePrincipalPolicy", source, nil); err != nil {
			return nil, err
		}
		attached, err := svc.PrincipalSourcePolicies(ctx, source)
		if err != nil {
			return nil, err
		}
		ids := make([]simSource, 0, len(attached)+len(sim.identity))
		for _, a := range attached {
			ids = append(ids, simSource{id: a.ID, typ: a.Type, doc: a.Document, p: a.Policy})
		}
		sim.identity = append(ids, sim.identity...)
		if sim.caller == "" && strings.Contains(source, ":user/") {
			sim.caller = source
		}
		return simulateResult(r.Params, sim.run(svc.Account()))
	}
}

func handleSimulateCustomPolicy(svc *iam.Service) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		if len(r.Params.Strings("PolicyInputList")) == 0 {
			return nil, awsapi.Errorf(awsapi.CodeValidation, "1 validation error detected: Value null at 'policyInputList' failed to satisfy constraint: Member must not be null")
		}
		sim, err := parseSimulation(r.Params)
		if err != nil {
			return nil, err
		}
		if err := r.Authorize(ctx, "iam:SimulateCustomPolicy", "*", nil); err != nil {
			return nil, err
		}
		return simulateResult(r.Params, sim.run(svc.Account()))
	}
}

func simulateResult(p *awsapi.Params, results []xmlEvaluationResult) (any, error) {
	page, more, next, err := pageOf(p, results)
	if err != nil {
		return nil, err
	}
	return &simulatePolicyResult{EvaluationResults: append(awsapi.Members[xmlEvaluationResult]{}, page...), listResult: listResult{more, next}}, nil
}

// stmtSpan is where a statement is written in its document: the lines and
// columns (from 1) of its opening and closing braces.
type stmtSpan struct{ start, end xmlPosition }

// statementSpans locates the statements of a policy document (one already
// accepted by the parser), in order. It returns nil if it cannot, and the
// simulator then reports no positions.
func statementSpans(doc string) []stmtSpan {
	dec := json.NewDecoder(strings.NewReader(doc))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	var spans [][2]int
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		key, _ := tok.(string)
		if key != "Statement" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil
			}
			continue
		}
		at := skipSeparators(doc, int(dec.InputOffset()))
		if at < len(doc) && doc[at] == '[' {
			if _, err := dec.Token(); err != nil {
				return nil
			}
			for dec.More() {
				start := skipSeparators(doc, int(dec.InputOffset()))
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					return nil
				}
				spans = append(spans, [2]int{start, int(dec.InputOffset()) - 1})
			}
			if _, err := dec.Token(); err != nil {
				return nil
			}
			continue
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil
		}
		spans = append(spans, [2]int{at, int(dec.InputOffset()) - 1})
	}
	out := make([]stmtSpan, len(spans))
	for i, s := range spans {
		out[i] = stmtSpan{start: lineColumn(doc, s[0]), end: lineColumn(doc, s[1])}
	}
	return out
}

func skipSeparators(doc string, i int) int {
	for i < len(doc) && strings.IndexByte(" \t\r\n:,", doc[i]) >= 0 {
		i++
	}
	return i
}

func lineColumn(doc string, offset int) xmlPosition {
	if offset > len(doc) {
		offset = len(doc)
	}
	before := doc[:offset]
	line := strings.Count(before, "\n") + 1
	col := offset - strings.LastIndexByte(before, '\n')
	return xmlPosition{Line: line, Column: col}
}
