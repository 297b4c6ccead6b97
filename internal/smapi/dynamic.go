package smapi

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/shortfuse/shortfuse/internal/audit"
	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/dbcred"
	"github.com/shortfuse/shortfuse/internal/rpc"
	"github.com/shortfuse/shortfuse/internal/secrets"
)

// Dynamic secrets (tag shortfuse:dynamic=true) hold the configuration of
// per-session database credentials (package dbcred). Reading one gives
// the caller its own database role; the configuration itself never
// leaves the broker.

// authorizeMaster authorizes the caller, when a write makes a secret
// dynamic (tags and value), to read the master secret the configuration
// names: whoever configures a dynamic secret decides what roles its
// readers are granted with the master's power, so they must be trusted
// with the master already. It returns that master ARN ("" when the secret
// is not dynamic), which the write checks again in its transaction.
func authorizeMaster(ctx context.Context, r *rpc.Request, svc *secrets.Service, tags []secrets.Tag, v secrets.Value) (string, error) {
	master, err := secrets.DynamicMaster(tags, v)
	if err != nil {
		return master, err
	}
	return master, authorizeMasterARN(ctx, r, svc, master)
}

// authorizeMasterARN authorizes the caller to read the master secret
// master names; "" names none.
func authorizeMasterARN(ctx context.Context, r *rpc.Request, svc *secrets.Service, master string) error {
	if master == "" {
		return nil
	}
	_, err := authorizeSecret(ctx, r, svc, "secretsmanager:GetSecretValue", master, nil)
	if errors.Is(err, secrets.ErrNotFound) {
		// The write refuses it with a clearer message.
		return nil
	}
	return err
}

// readSecretValue is the value GetSecretValue and BatchGetSecretValue
// return for a secret the caller was authorized to read: the stored
// version, or for a dynamic secret the caller's database credential.
func (d *Deps) readSecretValue(ctx context.Context, r *rpc.Request, l *secrets.Looked, versionID, stage string) (*secrets.SecretValue, error) {
	if !secrets.IsDynamic(l.Secret.Tags) {
		return d.Secrets.Open(ctx, l)
	}
	return d.dynamicValue(ctx, r, l.Secret, versionID, stage)
}

// dbValue is the value handed out: AWS's RDS secret shape with the lease's
// role and password. The master ARN and the grants stay in the broker.
type dbValue struct {
	Engine   string `json:"engine"`
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Username string `json:"username"`
	Password string `json:"password"`
	DBName   string `json:"dbname"`
}

var (
	errNoDBCred     = &awsapi.Error{Code: awsapi.CodeInvalidRequest, Message: "This broker does not hand out database credentials (it has no database engines)."}
	errDynamicStage = &awsapi.Error{Code: awsapi.CodeInvalidRequest, Message: "A dynamic secret's value is a database credential made from its AWSCURRENT configuration: ask for AWSCURRENT (or no version)."}
	errDBCredCreate = &awsapi.Error{Code: awsapi.CodeInternal, Message: "The broker could not create the database credential (the database refused or could not be reached); the broker's log says why."}
	errLeaseDropped = &awsapi.Error{Code: awsapi.CodeInvalidRequest, Message: "This session's database credential was dropped; a session gets one credential per dynamic secret."}
)

func (d *Deps) dynamicValue(ctx context.Context, r *rpc.Request, sec *secrets.Secret, versionID, stage string) (*secrets.SecretValue, error) {
	if d.DBCred == nil {
		return nil, errNoDBCred
	}
	if stage != "" && stage != secrets.StageCurrent {
		return nil, errDynamicStage
	}
	cfgv, err := d.Secrets.GetValue(ctx, sec.ARN, versionID, secrets.StageCurrent)
	if err != nil {
		if errors.Is(err, secrets.ErrInvalidRequest) || errors.Is(err, secrets.ErrNotFound) && versionID == "" {
			return nil, err
		}
		return nil, errDynamicStage
	}
	if cfgv.Value.IsBinary() {
		return nil, &awsapi.Error{Code: awsapi.CodeInvalidRequest, Message: "The dynamic secret's configuration is not valid: it is a SecretBinary."}
	}
	cfg, err := dbcred.ParseDynamic(cfgv.Value.Reveal())
	if err != nil {
		return nil, &awsapi.Error{Code: awsapi.CodeInvalidRequest, Message: "The dynamic secret's configuration is not valid: " + err.Error()}
	}
	master, err := MasterReader(d.Secrets)(ctx, cfg.MasterARN)
	if err != nil {
		return nil, &awsapi.Error{Code: awsapi.CodeInvalidRequest, Message: "The dynamic secret's master secret cannot be used: " + err.Error()}
	}
	if err := cfg.Resolve(master); err != nil {
		return nil, &awsapi.Error{Code: awsapi.CodeInvalidRequest, Message: "The dynamic secret's configuration is not valid: " + err.Error()}
	}
	a := dbcred.Acquire{SecretARN: sec.ARN, Config: cfg, Master: master, AccessKeyID: r.Caller.AccessKeyID}
	if c := r.Caller.Session; c != nil {
		end, err := d.SessionEnd(ctx, c)
		if err != nil {
			return nil, err
		}
		a.Session, a.Expires = true, end
	} else {
		life := time.Duration(dbcred.DefaultLeaseSeconds) * time.Second
		for _, t := range sec.Tags {
			if t.Key == dbcred.TagLeaseSeconds {
				if lease, err := dbcred.ParseLeaseSeconds(t.Value); err == nil {
					life = lease
				}
			}
		}
		a.Expires = r.Time.Add(life)
	}
	cred, err := d.DBCred.Get(ctx, a)
	switch {
	case errors.Is(err, dbcred.ErrEngine):
		r.Log().Error("database credential not created", "secret", sec.ARN, "err", err)
		return nil, errDBCredCreate
	case errors.Is(err, dbcred.ErrNoLease):
		return nil, errLeaseDropped
	case dbcred.IsConfigError(err):
		return nil, &awsapi.Error{Code: awsapi.CodeInvalidRequest, Message: "The dynamic secret's configuration is not valid: " + err.Error()}
	case err != nil:
		return nil, err
	}
	l := cred.Lease
	b, err := json.Marshal(dbValue{Engine: l.Engine, Host: l.Host, Port: l.Port, Username: l.Role, Password: cred.Password.Reveal(), DBName: l.DBName})
	if err != nil {
		return nil, err
	}
	return &secrets.SecretValue{ARN: cfgv.ARN, Name: cfgv.Name, VersionID: cfgv.VersionID, Stages: cfgv.Stages, Created: l.Created, Value: secrets.StringValue(string(b))}, nil
}

// MasterReader returns the function that reads master secrets for package
// dbcred: the AWSCURRENT value of the secret, in the RDS shape.
func MasterReader(svc *secrets.Service) func(ctx context.Context, arn string) (*dbcred.Master, error) {
	return func(ctx context.Context, arn string) (*dbcred.Master, error) {
		v, err := svc.GetValue(ctx, arn, "", secrets.StageCurrent)
		if err != nil {
			var se *secrets.Error
			if errors.As(err, &se) {
				return nil, errors.New(se.Msg)
			}
			return nil, err
		}
		if v.Value.IsBinary() {
			return nil, errors.New("the master secret is a SecretBinary, not the RDS shape")
		}
		return dbcred.ParseMaster(v.Value.Reveal())
	}
}

// LeaseAuditor returns the function that writes the audit records of
// database credentials created and dropped: event source shortfuse, event
// names CreateDatabaseLease, CreateDatabaseLeaseFailed and
// DropDatabaseLease, the role, database, secret, session and reason in
// the request parameters. They never hold a password.
func LeaseAuditor(a rpc.Auditor, account, region string) func(context.Context, dbcred.Event) error {
	return func(ctx context.Context, e dbcred.Event) error {
		if a == nil {
			return nil
		}
		params := map[string]any{
			"roleName": e.Role, "database": e.Database, "masterArn": e.MasterARN,
		}
		if e.SecretARN != "" {
			params["secretId"] = e.SecretARN
		}
		if e.AccessKeyID != "" {
			params["accessKeyId"] = e.AccessKeyID
		}
		if !e.Expires.IsZero() {
			params["validUntil"] = e.Expires.UTC().Format(time.RFC3339)
		}
		if e.Reason != "" {
			params["reason"] = e.Reason
		}
		rec := serviceEvent(account, region, e.Time, e.Name, "lease-"+e.Role, params)
		if e.Error != "" {
			rec.ErrorCode, rec.ErrorMessage = "DatabaseError", e.Error
		}
		return a.Append(ctx, rec)
	}
}

// serviceEvent is the audit record of something the broker did on its own
// (event type AwsServiceEvent, identity AWSService), not a request's.
func serviceEvent(account, region string, at time.Time, name, requestID string, params map[string]any) *audit.Record {
	return &audit.Record{
		EventTime: at, EventSource: audit.SourceShortfuse, EventName: name, AWSRegion: region,
		SourceIPAddress: "shortfuse", UserAgent: "shortfuse", EventType: "AwsServiceEvent",
		RecipientAccountID: account, RequestParameters: params,
		UserIdentity: &audit.UserIdentity{Type: "AWSService", AccountID: account},
		RequestID:    requestID,
	}
}
