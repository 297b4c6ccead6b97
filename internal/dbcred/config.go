package dbcred

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shortfuse/shortfuse/internal/fault"
)

// Tags of a dynamic secret.
const (
	// TagDynamic marks a secret whose value is the configuration of
	// per-session database credentials: Value "true".
	TagDynamic = "shortfuse:dynamic"
	// TagLeaseSeconds sets the lifetime of a lease handed to a caller
	// without a session (long-term access keys): whole seconds from
	// MinLeaseSeconds to MaxLeaseSeconds, default DefaultLeaseSeconds.
	TagLeaseSeconds = "shortfuse:lease-seconds"
)

// Bounds of TagLeaseSeconds.
const (
	DefaultLeaseSeconds = 900
	MinLeaseSeconds     = 60
	MaxLeaseSeconds     = 43200
)

// Engine names, as AWS spells them in RDS secrets.
const (
	// EnginePostgres is PostgreSQL.
	EnginePostgres = "postgres"
	// EngineMySQL is MySQL; the broker's MySQL engine runs on MariaDB
	// servers (a master labelled mysql that is a MariaDB server works).
	EngineMySQL = "mysql"
	// EngineMariaDB is MariaDB.
	EngineMariaDB = "mariadb"
)

// knownEngine reports whether the broker creates credentials for engine.
func knownEngine(engine string) bool {
	switch engine {
	case EnginePostgres, EngineMySQL, EngineMariaDB:
		return true
	}
	return false
}

// EnginesCompatible reports whether a dynamic secret of engine dynamic may
// use a master of engine master: the same engine, or mysql and mariadb,
// which speak the same protocol and are the same server to the broker.
func EnginesCompatible(dynamic, master string) bool {
	if dynamic == master {
		return true
	}
	mysqlish := func(e string) bool { return e == EngineMySQL || e == EngineMariaDB }
	return mysqlish(dynamic) && mysqlish(master)
}

// defaultPort is an engine's port when a secret gives none.
func defaultPort(engine string) int {
	if engine == EngineMySQL || engine == EngineMariaDB {
		return 3306
	}
	return 5432
}

// engineList is the engines' names for errors.
const engineList = `"postgres", "mysql" or "mariadb"`

// MaxGrants bounds the roles a dynamic secret grants.
const MaxGrants = 20

// maxConfigBytes bounds a configuration document (AWS's secret size limit).
const maxConfigBytes = 65536

// ConfigError is a configuration that cannot be used. Its message is
// written for the secret's author and never quotes a password.
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string { return e.Msg }

func configErr(format string, args ...any) error {
	return &ConfigError{Msg: fmt.Sprintf(format, args...)}
}

// Password is a database password. It redacts itself everywhere it could
// leak (fmt, log/slog, encoding/json, encoding); Reveal is the one way to
// the text.
type Password struct{ s string }

// NewPassword wraps s.
func NewPassword(s string) Password { return Password{s: s} }

// Reveal returns the password.
func (p Password) Reveal() string { return p.s }

// IsZero reports whether the password is empty.
func (p Password) IsZero() bool { return p.s == "" }

const redacted = "[redacted]"

func (Password) String() string                  { return redacted }
func (Password) GoString() string                { return redacted }
func (Password) Format(f fmt.State, _ rune)      { _, _ = io.WriteString(f, redacted) }
func (Password) LogValue() slog.Value            { return slog.StringValue(redacted) }
func (Password) MarshalJSON() ([]byte, error)    { return []byte(`"` + redacted + `"`), nil }
func (Password) MarshalText() ([]byte, error)    { return []byte(redacted), nil }
func (p *Password) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, &p.s) }

// Master is a master secret in AWS's RDS secret shape: the credential the
// broker creates and drops roles with.
type Master struct {
	Engine   string
	Host     string
	Port     int
	Username string
	Password Password
	DBName   string
}

// Dynamic is the configuration of a dynamic secret: which master creates
// the roles, which roles they are granted, and what the value handed out
// says (engine, host, port, dbname, as in AWS's RDS shape).
type Dynamic struct {
	Engine    string
	Host      string
	Port      int
	DBName    string
	MasterARN string
	Grants    []string
}

// masterKeys are the members a master secret may have: AWS's RDS shape
// (the members AWS's rotation templates read and write).
var masterKeys = map[string]bool{
	"engine": true, "host": true, "port": true, "username": true, "password": true, "dbname": true,
	"dbInstanceIdentifier": true, "dbClusterIdentifier": true, "masterarn": true, "proxyHost": true,
}

// dynamicKeys are the members of a dynamic secret's configuration.
var dynamicKeys = map[string]bool{
	"engine": true, "host": true, "port": true, "dbname": true, "masterarn": true, "grants": true,
}

// ParseMaster reads a master secret. It needs engine (postgres, mysql or
// mariadb), host, username and password; port defaults to the engine's
// (5432, 3306), and dbname to "postgres" for PostgreSQL and to none for
// MySQL and MariaDB (the master then connects to no database, and the
// broker creates no expiry event: see package mysql).
func ParseMaster(value []byte) (*Master, error) {
	m, err := object(value, masterKeys, "the master secret")
	if err != nil {
		return nil, err
	}
	out := &Master{}
	if out.Engine, err = str(m, "engine", true); err != nil {
		return nil, err
	}
	if !knownEngine(out.Engine) {
		return nil, configErr("the master secret's engine must be %s", engineList)
	}
	if out.Host, err = host(m, true); err != nil {
		return nil, err
	}
	if out.Port, err = port(m, defaultPort(out.Engine)); err != nil {
		return nil, err
	}
	if out.Username, err = str(m, "username", true); err != nil {
		return nil, err
	}
	if err := checkRoleName("username", out.Username); err != nil {
		return nil, err
	}
	pw, err := str(m, "password", true)
	if err != nil {
		return nil, err
	}
	if strings.IndexByte(pw, 0) >= 0 {
		return nil, configErr("the master secret's password must not contain NUL")
	}
	out.Password = NewPassword(pw)
	if out.DBName, err = str(m, "dbname", false); err != nil {
		return nil, err
	}
	if out.DBName == "" {
		if out.Engine == EnginePostgres {
			out.DBName = "postgres"
		}
	} else if err := checkDBName(out.DBName); err != nil {
		return nil, err
	}
	return out, nil
}

// ParseDynamic reads a dynamic secret's configuration. It needs masterarn
// and grants (one to MaxGrants role names); engine, if given, must be
// postgres, mysql or mariadb; engine, host, port and dbname, if omitted,
// are the master's (Resolve).
func ParseDynamic(value []byte) (*Dynamic, error) {
	m, err := object(value, dynamicKeys, "the dynamic secret")
	if err != nil {
		return nil, err
	}
	out := &Dynamic{}
	if out.Engine, err = str(m, "engine", false); err != nil {
		return nil, err
	}
	if out.Engine != "" && !knownEngine(out.Engine) {
		return nil, configErr("engine must be %s (the engines this broker creates credentials for)", engineList)
	}
	if out.Host, err = host(m, false); err != nil {
		return nil, err
	}
	if _, ok := m["port"]; ok {
		if out.Port, err = port(m, 0); err != nil {
			return nil, err
		}
	}
	if out.DBName, err = str(m, "dbname", false); err != nil {
		return nil, err
	}
	if out.DBName != "" {
		if err := checkDBName(out.DBName); err != nil {
			return nil, err
		}
	}
	if out.MasterARN, err = str(m, "masterarn", true); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(out.MasterARN, "arn:") || len(out.MasterARN) > 2048 {
		return nil, configErr("masterarn must be the ARN of the master secret")
	}
	raw, ok := m["grants"]
	if !ok {
		return nil, configErr("grants is required: the roles the credential is granted, such as [\"app_reader\"]")
	}
	if err := json.Unmarshal(raw, &out.Grants); err != nil || out.Grants == nil {
		return nil, configErr("grants must be an array of role names")
	}
	if len(out.Grants) < 1 || len(out.Grants) > MaxGrants {
		return nil, configErr("grants must name from 1 to %d roles", MaxGrants)
	}
	seen := map[string]bool{}
	for i, g := range out.Grants {
		if err := checkRoleName(fmt.Sprintf("grants[%d]", i), g); err != nil {
			return nil, err
		}
		if strings.HasPrefix(g, RolePrefix) {
			return nil, configErr("grants[%d] must not start with %q: that prefix belongs to the broker's own roles", i, RolePrefix)
		}
		if reservedRole(g) {
			return nil, configErr("grants[%d] names a role the broker does not grant (a reserved or predefined role)", i)
		}
		if seen[g] {
			return nil, configErr("grants[%d] repeats a role", i)
		}
		seen[g] = true
	}
	return out, nil
}

// Resolve fills what the configuration leaves to its master (engine,
// host, port, dbname) and checks that it names the master's server: a
// configuration that advertises another server than the one its roles are
// created on is refused, and so is a master of an engine the
// configuration's cannot use (EnginesCompatible).
func (d *Dynamic) Resolve(m *Master) error {
	if d.Engine == "" {
		d.Engine = m.Engine
	} else if !EnginesCompatible(d.Engine, m.Engine) {
		return configErr("engine is %q but the master secret's engine is %q: a %s credential must be created by a %s master", d.Engine, m.Engine, d.Engine, compatibleList(d.Engine))
	}
	if d.Host == "" {
		d.Host = m.Host
	} else if !strings.EqualFold(d.Host, m.Host) {
		return configErr("host must be the master secret's host (roles are created on the master's server)")
	}
	if d.Port == 0 {
		d.Port = m.Port
	} else if d.Port != m.Port {
		return configErr("port must be the master secret's port (roles are created on the master's server)")
	}
	if d.DBName == "" {
		d.DBName = m.DBName
	}
	return nil
}

// compatibleList names the master engines a dynamic engine may use.
func compatibleList(engine string) string {
	if engine == EngineMySQL || engine == EngineMariaDB {
		return "mysql or mariadb"
	}
	return engine
}

// ParseLeaseSeconds reads the TagLeaseSeconds tag value.
func ParseLeaseSeconds(v string) (time.Duration, error) {
	n, err := strconv.Atoi(v)
	if err != nil || strconv.Itoa(n) != v || n < MinLeaseSeconds || n > MaxLeaseSeconds {
		return 0, configErr("the tag %s must be a whole number of seconds from %d to %d", TagLeaseSeconds, MinLeaseSeconds, MaxLeaseSeconds)
	}
	return time.Duration(n) * time.Second, nil
}

// object decodes a flat JSON object strictly (docs/SECURITY.md: a lenient parser read differently from what was checked): one
// object, nothing after it, no key twice, and only the known keys, spelled
// exactly.
func object(value []byte, known map[string]bool, what string) (map[string]json.RawMessage, error) {
	if len(value) > maxConfigBytes {
		return nil, configErr("%s is larger than %d bytes", what, maxConfigBytes)
	}
	if !utf8.Valid(value) {
		return nil, configErr("%s must be a JSON object (it is not valid UTF-8)", what)
	}
	dec := json.NewDecoder(bytes.NewReader(value))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, configErr("%s must be a JSON object", what)
	}
	out := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, configErr("%s is not valid JSON", what)
		}
		key, _ := tok.(string)
		if !known[key] {
			return nil, configErr("%s has a member the broker does not know: %q", what, fault.Printable(key, 64))
		}
		if _, dup := out[key]; dup {
			return nil, configErr("%s has the member %q twice", what, key)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, configErr("%s is not valid JSON", what)
		}
		out[key] = raw
	}
	if _, err := dec.Token(); err != nil {
		return nil, configErr("%s is not valid JSON", what)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, configErr("%s has data after its JSON object", what)
	}
	return out, nil
}

// str reads a string member; a present member must be a non-empty string
// of at most 1024 bytes.
func str(m map[string]json.RawMessage, key string, required bool) (string, error) {
	raw, ok := m[key]
	if !ok {
		if required {
			return "", configErr("%s is required", key)
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", configErr("%s must be a string", key)
	}
	if s == "" || len(s) > 1024 {
		return "", configErr("%s must be 1 to 1024 bytes", key)
	}
	return s, nil
}

// host reads a host name or address: letters, digits, '.', '-', ':'
// (IPv6), '_' only.
func host(m map[string]json.RawMessage, required bool) (string, error) {
	h, err := str(m, "host", required)
	if err != nil || h == "" {
		return h, err
	}
	if len(h) > 253 {
		return "", configErr("host must be a host name or an IP address")
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(isAlnum(c) || c == '.' || c == '-' || c == ':' || c == '_') {
			return "", configErr("host must be a host name or an IP address")
		}
	}
	return h, nil
}

// port reads the port: a number (or, as some tools write it, a string of
// digits) from 1 to 65535; absent, def.
func port(m map[string]json.RawMessage, def int) (int, error) {
	raw, ok := m["port"]
	if !ok {
		return def, nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		s = string(raw)
	}
	n, err := strconv.Atoi(s)
	if err != nil || strconv.Itoa(n) != s || n < 1 || n > 65535 {
		return 0, configErr("port must be a number from 1 to 65535")
	}
	return n, nil
}

// checkRoleName accepts the role names the broker will handle: 1 to 63
// bytes (PostgreSQL's NAMEDATALEN-1) of ASCII letters, digits and '_',
// starting with a letter or '_' (an ASCII allowlist).
// Names are still quoted as identifiers wherever they reach SQL.
func checkRoleName(field, name string) error {
	if !ValidRoleName(name) {
		return configErr("%s must be a role name: 1 to 63 ASCII letters, digits or '_', not starting with a digit", field)
	}
	return nil
}

// ValidRoleName reports whether name passes the broker's allowlist for
// role names.
func ValidRoleName(name string) bool { return validName(name, false) }

func checkDBName(name string) error {
	if !validName(name, true) {
		return configErr("dbname must be 1 to 63 ASCII letters, digits, '_' or '-'")
	}
	return nil
}

// validName reports whether name is 1 to 63 bytes of ASCII letters, digits
// and '_' that does not start with a digit, as role names are. Database
// names (dashed) also accept '-', which is common in them, and may start
// with a digit.
func validName(name string, dashed bool) bool {
	if name == "" || len(name) > 63 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(isAlnum(c) || c == '_' || dashed && c == '-') || (!dashed && i == 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// reservedRole reports whether a role is one no dynamic credential may be
// granted: PostgreSQL's predefined roles (pg_*) and the pseudo-roles.
func reservedRole(name string) bool {
	l := strings.ToLower(name)
	switch l {
	case "public", "none", "current_user", "current_role", "session_user", "postgres":
		return true
	}
	return strings.HasPrefix(l, "pg_")
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
