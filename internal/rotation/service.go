package rotation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shortfuse/shortfuse/internal/dbcred"
	"github.com/shortfuse/shortfuse/internal/fault"
	"github.com/shortfuse/shortfuse/internal/secrets"
)

// Strategies.
const (
	SingleUser       = "single-user"
	AlternatingUsers = "alternating-users"
)

// What started a rotation.
const (
	TriggerRequest  = "request"  // RotateSecret
	TriggerSchedule = "schedule" // the scheduler: due, or a retry
)

// Event is a rotation's start or end, for the audit trail. It holds no
// password.
type Event struct {
	Name      string // RotationStarted, RotationSucceeded, RotationFailed
	Time      time.Time
	SecretARN string
	VersionID string
	Strategy  string
	Username  string // the database user of the pending version
	Trigger   string
	Error     string // why it failed: safe to show (never a password)
}

// Options configures a Service.
type Options struct {
	Secrets *secrets.Service
	// Rotators by engine name, as the RDS shape spells it ("postgres").
	Rotators map[string]dbcred.Rotator
	// Audit records an event; an error is logged.
	Audit func(ctx context.Context, e Event) error
	// Replica: a rotation claimed by a replica that has not finished it
	// after ClaimTimeout is taken over; default 2 minutes.
	dbcred.Replica
	// RetryMin and RetryMax bound the wait before a failed rotation is
	// tried again, doubled at each failure in a row; default 1 minute and
	// 1 hour.
	RetryMin, RetryMax time.Duration
}

// Service configures and runs rotations.
type Service struct {
	o     Options
	total *prometheus.CounterVec
}

// New returns a Service.
func New(o Options) *Service {
	o.Replica = o.Replica.WithDefaults(2 * time.Minute)
	if o.RetryMin == 0 {
		o.RetryMin = time.Minute
	}
	if o.RetryMax == 0 {
		o.RetryMax = time.Hour
	}
	return &Service{o: o, total: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "shortfuse_rotations_total",
		Help: "Secret rotations this replica ran, by result (succeeded, failed).",
	}, []string{"result"})}
}

// Collectors returns the Service's metrics.
func (s *Service) Collectors() []prometheus.Collector { return []prometheus.Collector{s.total} }

func invalidRequest(format string, args ...any) error {
	return &secrets.Error{Kind: secrets.ErrInvalidRequest, Msg: fmt.Sprintf(format, args...)}
}

// Messages of refusals.
const (
	MsgLambda     = "This broker runs no Lambda functions: omit RotationLambdaARN. It rotates secrets in AWS's RDS shape itself, for the engines it supports (postgres)."
	msgInProgress = "A previous rotation isn't complete. That rotation will be reattempted."
)

// errClaimed: another replica is rotating the secret.
var errClaimed = errors.New("the secret is being rotated by another replica")

// plan is what a rotation of a secret needs, read from its AWSCURRENT
// value (and, for alternating users, its master secret).
type plan struct {
	strategy string
	rotator  dbcred.Rotator
	current  *dbcred.Master // the AWSCURRENT value as a credential
	raw      map[string]json.RawMessage
	master   *dbcred.Master // alternating users only
}

// check reads the secret's AWSCURRENT value and says how it is rotated,
// or why it cannot be. Its messages never quote the value.
func (s *Service) check(ctx context.Context, sec *secrets.Secret) (*plan, string, error) {
	if secrets.IsDynamic(sec.Tags) {
		return nil, "", invalidRequest("A dynamic secret (tag %s=true) cannot be rotated: every reader already gets a database credential of its own, which ends with its session.", dbcred.TagDynamic)
	}
	cur, err := s.o.Secrets.GetValue(ctx, sec.ARN, "", secrets.StageCurrent)
	if err != nil {
		return nil, "", err
	}
	p, err := s.planFor(ctx, sec.ARN, cur.Value)
	return p, cur.VersionID, err
}

func (s *Service) planFor(ctx context.Context, arn string, v secrets.Value) (*plan, error) {
	notRDS := func(why string) error {
		return invalidRequest("The broker rotates secrets in AWS's RDS shape ({\"engine\",\"host\",\"port\",\"username\",\"password\",\"dbname\"}, and \"masterarn\" for alternating users) without a Lambda function; this secret's AWSCURRENT value is not in that shape: %s.", why)
	}
	if v.IsBinary() {
		return nil, notRDS("it is a SecretBinary")
	}
	var head struct {
		Engine    any `json:"engine"`
		MasterARN any `json:"masterarn"`
	}
	raw := map[string]json.RawMessage{}
	if json.Unmarshal(v.Reveal(), &raw) != nil || json.Unmarshal(v.Reveal(), &head) != nil {
		return nil, notRDS("it is not a JSON object")
	}
	engine, _ := head.Engine.(string)
	if engine == "" {
		return nil, notRDS("engine is missing")
	}
	rot := s.o.Rotators[engine]
	if rot == nil {
		return nil, invalidRequest("The broker cannot rotate secrets of engine %q: it has no rotation support for that engine.", fault.Printable(engine, 64))
	}
	cur, err := dbcred.ParseMaster(v.Reveal())
	if err != nil {
		var ce *dbcred.ConfigError
		if errors.As(err, &ce) {
			return nil, notRDS(ce.Msg)
		}
		return nil, err
	}
	p := &plan{strategy: SingleUser, rotator: rot, current: cur, raw: raw}
	if head.MasterARN == nil {
		return p, nil
	}
	p.strategy = AlternatingUsers
	if su, ok := rot.(dbcred.SingleUserOnly); ok {
		return nil, invalidRequest("%s", su.SingleUserOnly())
	}
	masterARN, _ := head.MasterARN.(string)
	if !strings.HasPrefix(masterARN, "arn:") {
		return nil, notRDS("masterarn must be the ARN of the master secret")
	}
	if masterARN == arn {
		return nil, invalidRequest("The secret names itself as its master (masterarn): alternating users need another secret, the master's.")
	}
	mv, err := s.o.Secrets.GetValue(ctx, masterARN, "", secrets.StageCurrent)
	if err != nil {
		var se *secrets.Error
		if errors.As(err, &se) {
			return nil, invalidRequest("The master secret (masterarn) cannot be read: %s", se.Msg)
		}
		return nil, err
	}
	if mv.Value.IsBinary() {
		return nil, invalidRequest("The master secret (masterarn) is not in AWS's RDS shape: it is a SecretBinary.")
	}
	m, err := dbcred.ParseMaster(mv.Value.Reveal())
	if err != nil {
		var ce *dbcred.ConfigError
		if errors.As(err, &ce) {
			return nil, invalidRequest("The master secret (masterarn) is not in AWS's RDS shape: %s.", ce.Msg)
		}
		return nil, err
	}
	if m.Engine != cur.Engine || !strings.EqualFold(m.Host, cur.Host) || m.Port != cur.Port {
		return nil, invalidRequest("The master secret (masterarn) is for another database server: its engine, host and port must be the secret's.")
	}
	base := strings.TrimSuffix(cur.Username, dbcred.CloneSuffix)
	if m.Username == base || m.Username == base+dbcred.CloneSuffix {
		return nil, invalidRequest("The secret's user is the master's: rotate the master as a single user (without masterarn).")
	}
	if !dbcred.ValidRoleName(base + dbcred.CloneSuffix) {
		return nil, invalidRequest("The secret's username is too long to have a clone (%s): at most %d characters.", dbcred.CloneSuffix, 63-len(dbcred.CloneSuffix))
	}
	p.master = m
	return p, nil
}

// pendingUser is the user the next version names: the same (single
// user), or the other of the user and its clone.
func (p *plan) pendingUser() string {
	u := p.current.Username
	if p.strategy == SingleUser {
		return u
	}
	if base, ok := strings.CutSuffix(u, dbcred.CloneSuffix); ok {
		return base
	}
	return u + dbcred.CloneSuffix
}

// Request is a RotateSecret call, its parameters checked for shape.
type Request struct {
	SecretID string
	// Token is the new version's id; empty: one is made.
	Token string
	// Rules, if set, replace the stored rules.
	Rules *Rules
	// Immediately: rotate now, rather than at the next window.
	Immediately bool
}

// Result is RotateSecret's answer: no value, no password.
type Result struct {
	ARN, Name, VersionID string
}

// Start is RotateSecret: it checks that the secret can be rotated, stores
// the rotation configuration, and (Immediately) rotates it, waiting for
// the rotation. The rotation's outcome is not its error, as in AWS, where
// RotateSecret starts a rotation that runs on its own: a failure is in the
// audit trail, the metrics and DescribeSecret (AWSPENDING stays, and
// NextRotationDate is the retry).
func (s *Service) Start(ctx context.Context, req Request) (*Result, error) {
	sec, err := s.o.Secrets.Describe(ctx, req.SecretID)
	if err != nil {
		return nil, err
	}
	if sec.ScheduledForDeletion() {
		return nil, invalidRequest("You can't perform this operation on the secret because it was marked for deletion.")
	}
	if _, _, err := s.check(ctx, sec); err != nil {
		return nil, err
	}
	sched, err := scheduleOf(req, sec)
	if err != nil {
		return nil, err
	}
	res := &Result{ARN: sec.ARN, Name: sec.Name}
	now := s.o.Now().UTC()
	token := req.Token
	if req.Immediately && token == "" {
		if token, err = s.o.Secrets.NewVersionID(); err != nil {
			return nil, err
		}
	}
	// The configuration and, to rotate now, the claim: one transaction,
	// so that no other replica's pass starts this rotation meanwhile.
	done := false // a retry of a RotateSecret whose rotation finished
	_, err = s.o.Secrets.UpdateRotation(ctx, sec.ARN, func(cur *secrets.Secret, rot *secrets.Rotation) error {
		pending, current := holder(cur, secrets.StagePending), holder(cur, secrets.StageCurrent)
		done = req.Immediately && token == current && (pending == "" || pending == current)
		if done {
			return nil
		}
		if req.Immediately {
			if pending != "" && pending != current && token != pending {
				return invalidRequest(msgInProgress)
			}
			if token != pending && slices.ContainsFunc(cur.Versions, func(v secrets.Version) bool { return v.ID == token }) {
				return invalidRequest("The ClientRequestToken names a version the secret already has: a rotation makes a new version.")
			}
			if rot.ClaimedBy != "" && now.Sub(rot.ClaimedAt) < s.o.ClaimTimeout {
				return invalidRequest(msgInProgress)
			}
			rot.ClaimedBy, rot.ClaimedAt = s.o.Owner, now
		}
		rot.Enabled = true
		rot.AfterDays, rot.Schedule, rot.Duration = sched.Rules.AutomaticallyAfterDays, sched.Rules.ScheduleExpression, sched.Rules.Duration
		rot.Failures = 0
		if req.Immediately {
			rot.Next = now
		} else {
			last := rot.LastRotated
			if last.IsZero() {
				last = now
			}
			rot.Next = sched.Next(last)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !req.Immediately {
		return res, nil
	}
	res.VersionID = token
	if done {
		return res, nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 25*time.Second)
	defer cancel()
	_ = s.rotateClaimed(ctx, sec.ARN, token, TriggerRequest)
	return res, nil
}

// scheduleOf is the schedule RotateSecret gives, or else the one the
// secret has.
func scheduleOf(req Request, sec *secrets.Secret) (*Schedule, error) {
	switch {
	case req.Rules != nil:
		return ParseRules(*req.Rules)
	case sec.Rotation != nil && (sec.Rotation.AfterDays != 0 || sec.Rotation.Schedule != ""):
		return ParseRules(storedRules(sec.Rotation))
	}
	return nil, invalidRequest("The secret has no rotation schedule yet: give RotationRules (AutomaticallyAfterDays or ScheduleExpression).")
}

func storedRules(r *secrets.Rotation) Rules {
	return Rules{AutomaticallyAfterDays: r.AfterDays, ScheduleExpression: r.Schedule, Duration: r.Duration}
}

func holder(sec *secrets.Secret, stage string) string {
	for _, v := range sec.Versions {
		if slices.Contains(v.Stages, stage) {
			return v.ID
		}
	}
	return ""
}

// Cancel is CancelRotateSecret: rotation is turned off; the staging
// labels stay as they are (an AWSPENDING version of an unfinished
// rotation stays, as in AWS). It returns the secret and the id of that
// pending version, if any.
func (s *Service) Cancel(ctx context.Context, id string) (*secrets.Secret, string, error) {
	sec, err := s.o.Secrets.UpdateRotation(ctx, id, func(_ *secrets.Secret, rot *secrets.Rotation) error {
		rot.Enabled, rot.Next, rot.Failures = false, time.Time{}, 0
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	pending := holder(sec, secrets.StagePending)
	if pending == holder(sec, secrets.StageCurrent) {
		pending = ""
	}
	return sec, pending, nil
}

// Pass rotates the secrets whose rotation is due (or due again after a
// failure, or was interrupted), one at a time. It returns how many this
// replica rotated successfully.
func (s *Service) Pass(ctx context.Context) (int, error) {
	list, err := s.o.Secrets.List(ctx, secrets.ListInput{})
	if err != nil {
		return 0, err
	}
	now := s.o.Now()
	n := 0
	var errs []error
	for _, sec := range list {
		r := sec.Rotation
		if r == nil || !r.Enabled || r.Next.IsZero() || now.Before(r.Next) {
			continue
		}
		if r.ClaimedBy != "" && now.Sub(r.ClaimedAt) < s.o.ClaimTimeout {
			continue
		}
		token := holder(sec, secrets.StagePending)
		if token == "" || token == holder(sec, secrets.StageCurrent) {
			if token, err = s.o.Secrets.NewVersionID(); err != nil {
				return n, err
			}
		}
		rctx, cancel := context.WithTimeout(ctx, time.Minute)
		err := s.run(rctx, sec.ARN, token, TriggerSchedule)
		cancel()
		switch {
		case err == nil:
			n++
		case errors.Is(err, errClaimed):
		default:
			errs = append(errs, fmt.Errorf("%s: %w", sec.ARN, err))
		}
	}
	return n, errors.Join(errs...)
}

// claim takes the rotation of the secret for this replica, in one store
// transaction: only when it is (still) due and no other replica holds a
// claim younger than ClaimTimeout. A secret another replica rotated since
// this one listed it is not due any more.
func (s *Service) claim(ctx context.Context, arn string) error {
	now := s.o.Now().UTC()
	_, err := s.o.Secrets.UpdateRotation(ctx, arn, func(_ *secrets.Secret, rot *secrets.Rotation) error {
		if !rot.Enabled || rot.Next.IsZero() || now.Before(rot.Next) {
			return errClaimed
		}
		if rot.ClaimedBy != "" && now.Sub(rot.ClaimedAt) < s.o.ClaimTimeout {
			return errClaimed
		}
		rot.ClaimedBy, rot.ClaimedAt = s.o.Owner, now
		return nil
	})
	return err
}

// release gives the claim up after a failure: the next try is after a
// backoff that doubles with each failure in a row.
func (s *Service) release(ctx context.Context, arn string) {
	now := s.o.Now().UTC()
	_, err := s.o.Secrets.UpdateRotation(context.WithoutCancel(ctx), arn, func(_ *secrets.Secret, rot *secrets.Rotation) error {
		if rot.ClaimedBy != s.o.Owner {
			return nil
		}
		rot.ClaimedBy, rot.ClaimedAt = "", time.Time{}
		rot.Failures++
		if rot.Enabled {
			rot.Next = now.Add(s.backoff(rot.Failures))
		}
		return nil
	})
	if err != nil {
		s.o.Logger.Warn("rotation claim not released", "secret", arn, "err", err)
	}
}

func (s *Service) backoff(failures int) time.Duration {
	d := s.o.RetryMin
	for i := 1; i < failures && d < s.o.RetryMax; i++ {
		d *= 2
	}
	return min(d, s.o.RetryMax)
}

// run claims the secret and rotates it to the version token.
func (s *Service) run(ctx context.Context, arn, token, trigger string) error {
	if err := s.claim(ctx, arn); err != nil {
		return err
	}
	return s.rotateClaimed(ctx, arn, token, trigger)
}

// rotateClaimed rotates the secret this replica claimed to the version
// token, and records the outcome.
func (s *Service) rotateClaimed(ctx context.Context, arn, token, trigger string) error {
	ev := Event{Name: "RotationStarted", Time: s.o.Now().UTC(), SecretARN: arn, VersionID: token, Trigger: trigger}
	err := s.rotate(ctx, arn, token, &ev)
	if err != nil {
		s.release(ctx, arn)
		s.total.WithLabelValues("failed").Inc()
		ev.Name, ev.Time, ev.Error = "RotationFailed", s.o.Now().UTC(), err.Error()
		s.o.Logger.Error("rotation failed; AWSCURRENT is unchanged, the pending version is kept and retried", "secret", arn, "version", token, "err", err)
		s.audit(ctx, ev)
		return err
	}
	s.total.WithLabelValues("succeeded").Inc()
	ev.Name, ev.Time = "RotationSucceeded", s.o.Now().UTC()
	s.o.Logger.Info("secret rotated", "secret", arn, "version", token, "strategy", ev.Strategy, "username", ev.Username)
	s.audit(ctx, ev)
	return nil
}

func (s *Service) audit(ctx context.Context, e Event) {
	if s.o.Audit == nil {
		return
	}
	if err := s.o.Audit(context.WithoutCancel(ctx), e); err != nil {
		s.o.Logger.Error("audit record of a rotation not written", "secret", e.SecretARN, "event", e.Name, "err", err)
	}
}

// rotate runs the four steps; each can be repeated, so a rotation that
// failed or was interrupted resumes from its pending version.
func (s *Service) rotate(ctx context.Context, arn, token string, ev *Event) error {
	sec, err := s.o.Secrets.Describe(ctx, arn)
	if err != nil {
		return err
	}
	p, currentID, err := s.check(ctx, sec)
	if err != nil {
		return err
	}
	ev.Strategy, ev.Username = p.strategy, p.pendingUser()
	s.audit(ctx, *ev)
	next := func() time.Time {
		if sec.Rotation == nil {
			return time.Time{}
		}
		sched, err := ParseRules(storedRules(sec.Rotation))
		if err != nil {
			return time.Time{}
		}
		return sched.Next(s.o.Now())
	}
	if token == currentID {
		// Finished already (a retry of a rotation that completed).
		_, err := s.o.Secrets.FinishRotation(ctx, arn, token, next())
		return err
	}

	// createSecret: the pending version, made once.
	pv, err := s.o.Secrets.GetValue(ctx, arn, token, secrets.StagePending)
	switch {
	case err == nil:
	case errors.Is(err, secrets.ErrNotFound) || errors.Is(err, secrets.ErrInvalidRequest):
		if pv, err = s.createPending(ctx, arn, token, p); err != nil {
			return fmt.Errorf("createSecret: %w", err)
		}
	default:
		return fmt.Errorf("createSecret: %w", err)
	}
	pending, err := dbcred.ParseMaster(pv.Value.Reveal())
	if err != nil {
		return fmt.Errorf("createSecret: the pending version is not in the RDS shape: %w", err)
	}
	if pending.Username != p.pendingUser() || !strings.EqualFold(pending.Host, p.current.Host) || pending.Port != p.current.Port {
		return errors.New("createSecret: the pending version names another user or server than the rotation would: remove its AWSPENDING label (UpdateSecretVersionStage) and rotate again")
	}

	// setSecret.
	if err := s.setSecret(ctx, arn, p, pending); err != nil {
		return fmt.Errorf("setSecret: %w", err)
	}
	// testSecret.
	if err := p.rotator.Ping(ctx, pending); err != nil {
		return fmt.Errorf("testSecret: %w", err)
	}
	// finishSecret.
	if _, err := s.o.Secrets.FinishRotation(ctx, arn, token, next()); err != nil {
		return fmt.Errorf("finishSecret: %w", err)
	}
	return nil
}

// createPending adds the pending version: the current value with a new
// password (and, for alternating users, the other user).
func (s *Service) createPending(ctx context.Context, arn, token string, p *plan) (*secrets.SecretValue, error) {
	pw, err := dbcred.NewPasswordFrom(s.o.Rand)
	if err != nil {
		return nil, err
	}
	v := make(map[string]json.RawMessage, len(p.raw))
	for k, x := range p.raw {
		v[k] = x
	}
	v["password"], _ = json.Marshal(pw.Reveal())
	v["username"], _ = json.Marshal(p.pendingUser())
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if _, err := s.o.Secrets.PutValue(ctx, secrets.PutInput{SecretID: arn, VersionID: token, Value: secrets.StringValue(string(b)), Stages: []string{secrets.StagePending}}); err != nil {
		return nil, err
	}
	return s.o.Secrets.GetValue(ctx, arn, token, secrets.StagePending)
}

// setSecret sets the pending password on the database, unless it works
// already (a repeated step).
func (s *Service) setSecret(ctx context.Context, arn string, p *plan, pending *dbcred.Master) error {
	if p.rotator.Ping(ctx, pending) == nil {
		return nil
	}
	if p.strategy == AlternatingUsers {
		return p.rotator.SetUserPassword(ctx, p.master, pending.Username, p.current.Username, pending.Password)
	}
	err := p.rotator.SetOwnPassword(ctx, p.current, pending.Password)
	if err == nil {
		return nil
	}
	// The current password may have been changed already by a rotation
	// interrupted after setSecret and before finishSecret was repeated
	// elsewhere: AWS's template then tries AWSPREVIOUS, for the same user
	// and server only.
	prev, perr := s.o.Secrets.GetValue(ctx, arn, "", secrets.StagePrevious)
	if perr != nil || prev.Value.IsBinary() {
		return err
	}
	pm, perr := dbcred.ParseMaster(prev.Value.Reveal())
	if perr != nil || pm.Username != p.current.Username || !strings.EqualFold(pm.Host, p.current.Host) || pm.Port != p.current.Port || pm.DBName != p.current.DBName {
		return err
	}
	if p.rotator.SetOwnPassword(ctx, pm, pending.Password) == nil {
		return nil
	}
	return err
}

// MasterOf returns the master secret's ARN that the secret's AWSCURRENT
// value names (masterarn), "" when it names none or is not in the RDS
// shape. It never returns the value.
func (s *Service) MasterOf(ctx context.Context, id string) (string, error) {
	v, err := s.o.Secrets.GetValue(ctx, id, "", secrets.StageCurrent)
	if err != nil || v.Value.IsBinary() {
		return "", nil
	}
	var head struct {
		MasterARN string `json:"masterarn"`
	}
	if json.Unmarshal(v.Value.Reveal(), &head) != nil {
		return "", nil
	}
	return head.MasterARN, nil
}
