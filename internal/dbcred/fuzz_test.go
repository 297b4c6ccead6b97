package dbcred

import (
	"encoding/json"
	"testing"
)

// FuzzParseDynamic: the parser never panics, and what it accepts is a
// configuration the broker can use as is: a master ARN and grants that are
// valid role names, nothing else; its encoding parses back the same.
func FuzzParseDynamic(f *testing.F) {
	f.Add([]byte(`{"engine":"postgres","host":"127.0.0.1","port":5432,"dbname":"app","masterarn":"arn:aws:secretsmanager:us-east-1:1:secret:m","grants":["app_reader"]}`))
	f.Add([]byte(`{"masterarn":"arn:x","grants":["a","b"],"grants":["c"]}`))
	f.Add([]byte(`{"masterarn":"arn:x","grants":["a\" SUPERUSER"]}`))
	f.Add([]byte(`{"port":"5432","masterarn":"arn:x","grants":["pg_x"]}`))
	f.Add([]byte(`{"engine":"mariadb","host":"db","port":3306,"masterarn":"arn:x","grants":["app_reader","app_writer"]}`))
	f.Add([]byte(`{"engine":"mysql","masterarn":"arn:x","grants":["r` + "`" + `@'%'"]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		d, err := ParseDynamic(in)
		if err != nil {
			if _, ok := err.(*ConfigError); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		if d.MasterARN == "" || len(d.Grants) == 0 || len(d.Grants) > MaxGrants || (d.Engine != "" && !knownEngine(d.Engine)) {
			t.Fatalf("accepted %+v", d)
		}
		for _, g := range d.Grants {
			if !ValidRoleName(g) || reservedRole(g) {
				t.Fatalf("accepted grant %q", g)
			}
		}
		doc := map[string]any{"masterarn": d.MasterARN, "grants": d.Grants}
		if d.Engine != "" {
			doc["engine"] = d.Engine
		}
		if d.Host != "" {
			doc["host"] = d.Host
		}
		if d.Port != 0 {
			doc["port"] = d.Port
		}
		if d.DBName != "" {
			doc["dbname"] = d.DBName
		}
		b, _ := json.Marshal(doc)
		d2, err := ParseDynamic(b)
		if err != nil {
			t.Fatalf("re-encoded configuration refused: %v", err)
		}
		if d2.MasterARN != d.MasterARN || len(d2.Grants) != len(d.Grants) || d2.Engine != d.Engine || d2.Host != d.Host || d2.Port != d.Port || d2.DBName != d.DBName {
			t.Fatalf("round trip changed %+v into %+v", d, d2)
		}
	})
}

// FuzzParseMaster: never panics; an accepted master has its required
// members.
func FuzzParseMaster(f *testing.F) {
	f.Add([]byte(`{"engine":"postgres","host":"h","port":5432,"username":"m","password":"p","dbname":"d"}`))
	f.Add([]byte(`{"engine":"mariadb","host":"h","username":"m","password":"p"}`))
	f.Add([]byte(`{"engine":"mysql","host":"h","port":"3306","username":"m","password":"p","dbname":"app"}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := ParseMaster(in)
		if err != nil {
			return
		}
		if !knownEngine(m.Engine) || m.Host == "" || !ValidRoleName(m.Username) || m.Password.IsZero() || m.Port < 1 {
			t.Fatalf("accepted %+v", m)
		}
	})
}
