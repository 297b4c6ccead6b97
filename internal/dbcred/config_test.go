package dbcred

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseDynamic(t *testing.T) {
	const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:/prod/db-master-AbCdEf"
	for _, tc := range []struct {
		name, in string
		want     string // substring of the error; "" for success
	}{
		{"ok/minimal", `{"masterarn":"` + arn + `","grants":["app_reader"]}`, ""},
		{"ok/full", `{"engine":"postgres","host":"db.example","port":5432,"dbname":"app","masterarn":"` + arn + `","grants":["app_reader","app_writer"]}`, ""},
		{"ok/port-string", `{"port":"5433","masterarn":"` + arn + `","grants":["r"]}`, ""},
		{"fail/not-object", `["x"]`, "must be a JSON object"},
		{"fail/trailing", `{"masterarn":"` + arn + `","grants":["r"]} {}`, "data after"},
		{"fail/duplicate", `{"masterarn":"` + arn + `","grants":["r"],"grants":["postgres_admin"]}`, "twice"},
		{"fail/unknown", `{"masterarn":"` + arn + `","grants":["r"],"password":"x"}`, "does not know"},
		{"fail/wrong-case", `{"MasterArn":"` + arn + `","grants":["r"]}`, "does not know"},
		{"ok/mysql", `{"engine":"mysql","masterarn":"` + arn + `","grants":["r"]}`, ""},
		{"ok/mariadb", `{"engine":"mariadb","port":3306,"dbname":"app","masterarn":"` + arn + `","grants":["app_reader"]}`, ""},
		{"fail/engine", `{"engine":"oracle","masterarn":"` + arn + `","grants":["r"]}`, "engine must be"},
		{"fail/engine-case", `{"engine":"MariaDB","masterarn":"` + arn + `","grants":["r"]}`, "engine must be"},
		{"fail/grant-backtick", `{"engine":"mariadb","masterarn":"` + arn + `","grants":["r` + "`" + ` WITH ADMIN OPTION"]}`, "role name"},
		{"fail/grant-at", `{"engine":"mysql","masterarn":"` + arn + `","grants":["root@localhost"]}`, "role name"},
		{"fail/no-master", `{"grants":["r"]}`, "masterarn is required"},
		{"fail/master-not-arn", `{"masterarn":"/prod/db-master","grants":["r"]}`, "ARN"},
		{"fail/no-grants", `{"masterarn":"` + arn + `"}`, "grants is required"},
		{"fail/empty-grants", `{"masterarn":"` + arn + `","grants":[]}`, "from 1 to"},
		{"fail/grants-string", `{"masterarn":"` + arn + `","grants":"app_reader"}`, "array"},
		{"fail/grant-injection", `{"masterarn":"` + arn + `","grants":["r\" SUPERUSER --"]}`, "role name"},
		{"fail/grant-space", `{"masterarn":"` + arn + `","grants":["app reader"]}`, "role name"},
		{"fail/grant-digit", `{"masterarn":"` + arn + `","grants":["1role"]}`, "role name"},
		{"fail/grant-long", `{"masterarn":"` + arn + `","grants":["` + strings.Repeat("a", 64) + `"]}`, "role name"},
		{"fail/grant-unicode", `{"masterarn":"` + arn + `","grants":["rôle"]}`, "role name"},
		{"fail/grant-pg", `{"masterarn":"` + arn + `","grants":["pg_read_all_data"]}`, "reserved"},
		{"fail/grant-public", `{"masterarn":"` + arn + `","grants":["PUBLIC"]}`, "reserved"},
		{"fail/grant-own-prefix", `{"masterarn":"` + arn + `","grants":["sf_other"]}`, "prefix"},
		{"fail/grant-repeat", `{"masterarn":"` + arn + `","grants":["r","r"]}`, "repeats"},
		{"fail/port", `{"port":70000,"masterarn":"` + arn + `","grants":["r"]}`, "port"},
		{"fail/host", `{"host":"db host","masterarn":"` + arn + `","grants":["r"]}`, "host"},
		{"fail/dbname", `{"dbname":"a b","masterarn":"` + arn + `","grants":["r"]}`, "dbname"},
		{"fail/invalid-utf8", "{\"masterarn\":\"\xff\"}", "UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseDynamic([]byte(tc.in))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("ParseDynamic() = %v, want success", err)
				}
				if d.MasterARN != arn || (d.Engine != "" && !knownEngine(d.Engine)) || len(d.Grants) == 0 {
					t.Fatalf("ParseDynamic() = %+v", d)
				}
				return
			}
			var ce *ConfigError
			if err == nil || !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseDynamic() = %v, want a ConfigError with %q", err, tc.want)
			}
		})
	}
}

func TestParseMaster(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     string
	}{
		{"ok/rds", `{"engine":"postgres","host":"127.0.0.1","port":5432,"username":"master","password":"p'w\\","dbname":"app","dbInstanceIdentifier":"db1"}`, ""},
		{"ok/defaults", `{"engine":"postgres","host":"h","username":"master","password":"x"}`, ""},
		{"ok/mariadb", `{"engine":"mariadb","host":"h","username":"master","password":"x","dbname":"app"}`, ""},
		{"ok/mysql-defaults", `{"engine":"mysql","host":"h","username":"master","password":"x"}`, ""},
		{"fail/engine", `{"engine":"oracle","host":"h","username":"m","password":"x"}`, "engine"},
		{"fail/engine-empty", `{"engine":"","host":"h","username":"m","password":"x"}`, "engine"},
		{"fail/no-password", `{"engine":"postgres","host":"h","username":"m"}`, "password is required"},
		{"fail/bad-user", `{"engine":"postgres","host":"h","username":"m x","password":"x"}`, "username"},
		{"fail/nul-password", `{"engine":"postgres","host":"h","username":"m","password":"a\u0000b"}`, "NUL"},
		{"fail/unknown", `{"engine":"postgres","host":"h","username":"m","password":"x","grants":["r"]}`, "does not know"},
		{"fail/not-json", `hunter2`, "JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseMaster([]byte(tc.in))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("ParseMaster() = %v", err)
				}
				switch {
				case m.Engine == EnginePostgres && (m.Port == 0 || m.DBName == ""):
					t.Fatalf("ParseMaster() = %+v: defaults not filled", m)
				case m.Engine != EnginePostgres && m.Port != 3306:
					t.Fatalf("ParseMaster() = %+v: want port 3306", m)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseMaster() = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "a\x00b") {
				t.Fatalf("the error quotes the password: %v", err)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	pg := &Master{Engine: "postgres", Host: "db.example", Port: 5432, DBName: "postgres"}
	maria := &Master{Engine: "mariadb", Host: "db.example", Port: 3306, DBName: "app"}
	mysql := &Master{Engine: "mysql", Host: "db.example", Port: 3306}
	for _, tc := range []struct {
		name   string
		m      *Master
		d      Dynamic
		engine string // the engine after Resolve
		want   string // substring of the error; "" for success
	}{
		{"ok/inherit", pg, Dynamic{Engine: "postgres"}, "postgres", ""},
		{"ok/inherit-engine", pg, Dynamic{}, "postgres", ""},
		{"ok/same", pg, Dynamic{Engine: "postgres", Host: "DB.example", Port: 5432, DBName: "app"}, "postgres", ""},
		{"ok/mariadb", maria, Dynamic{Engine: "mariadb"}, "mariadb", ""},
		{"ok/mariadb-inherit", maria, Dynamic{}, "mariadb", ""},
		{"ok/mysql-on-mariadb", maria, Dynamic{Engine: "mysql"}, "mysql", ""},
		{"ok/mariadb-on-mysql", mysql, Dynamic{Engine: "mariadb", DBName: "app"}, "mariadb", ""},
		{"fail/mysql-on-postgres", pg, Dynamic{Engine: "mysql"}, "", `a mysql credential must be created by a mysql or mariadb master`},
		{"fail/postgres-on-mariadb", maria, Dynamic{Engine: "postgres"}, "", `a postgres credential must be created by a postgres master`},
		{"fail/other-host", pg, Dynamic{Engine: "postgres", Host: "evil.example"}, "", "host"},
		{"fail/other-port", pg, Dynamic{Engine: "postgres", Port: 5433}, "", "port"},
		{"fail/mariadb-other-port", maria, Dynamic{Engine: "mariadb", Port: 5432}, "", "port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.d.Resolve(tc.m)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("Resolve() = %v, want an error with %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve() = %v", err)
			}
			if tc.d.Engine != tc.engine || tc.d.Host == "" || tc.d.Port == 0 || (tc.d.DBName == "" && tc.m.DBName != "") {
				t.Fatalf("Resolve() left %+v", tc.d)
			}
		})
	}
}

func TestPasswordRedacts(t *testing.T) {
	p := NewPassword("s3cr3t-value")
	m := Master{Password: p}
	b, _ := json.Marshal(m)
	for _, s := range []string{fmt.Sprint(p), fmt.Sprintf("%v %+v %#v %s %q %x", p, m, m, p, p, p), string(b)} {
		if strings.Contains(s, "s3cr3t") {
			t.Fatalf("the password leaks: %s", s)
		}
	}
}

func TestNames(t *testing.T) {
	r, err := RoleName(nil, "ASIAABCDEFGH23456789")
	if err != nil || !strings.HasPrefix(r, "sf_23456789_") || !ValidRoleName(r) || len(r) != len("sf_23456789_")+10 {
		t.Fatalf("RoleName() = %q, %v", r, err)
	}
	p, err := NewPasswordFrom(nil)
	if err != nil || len(p.Reveal()) != passwordLength {
		t.Fatalf("NewPasswordFrom() = %d chars, %v", len(p.Reveal()), err)
	}
	for _, lt := range []struct {
		v  string
		ok bool
	}{{"900", true}, {"60", true}, {"43200", true}, {"59", false}, {"43201", false}, {"0900", false}, {"9e2", false}, {"", false}} {
		if _, err := ParseLeaseSeconds(lt.v); (err == nil) != lt.ok {
			t.Errorf("ParseLeaseSeconds(%q) = %v", lt.v, err)
		}
	}
}
