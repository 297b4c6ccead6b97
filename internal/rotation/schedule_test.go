package rotation

import (
	"errors"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/secrets"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCronNext(t *testing.T) {
	for _, tc := range []struct {
		expr, after, want string
	}{
		{"0 8 1 * ? *", "2026-03-05T10:00:00Z", "2026-04-01T08:00:00Z"},
		{"0 8 1 * ? *", "2026-04-01T07:59:30Z", "2026-04-01T08:00:00Z"},
		{"0 8 1 * ? *", "2026-04-01T08:00:00Z", "2026-05-01T08:00:00Z"},
		{"0 */4 * * ? *", "2026-03-05T10:00:00Z", "2026-03-05T12:00:00Z"},
		{"30 2 ? * MON-FRI *", "2026-12-05T00:00:00Z", "2026-12-07T02:30:00Z"}, // Saturday → Monday
		{"0 0 L * ? *", "2026-02-10T00:00:00Z", "2026-02-28T00:00:00Z"},
		{"0 0 L * ? *", "2028-02-10T00:00:00Z", "2028-02-29T00:00:00Z"},
		{"0 0 15W * ? *", "2026-08-01T00:00:00Z", "2026-08-14T00:00:00Z"},  // 15 Aug 2026 is a Saturday
		{"0 0 1W * ? *", "2026-07-31T00:00:00Z", "2026-08-03T00:00:00Z"},   // 1 Aug is a Saturday: Monday the 3rd
		{"0 0 31W * ? *", "2026-05-01T00:00:00Z", "2026-05-29T00:00:00Z"},  // 31 May 2026 is a Sunday
		{"0 10 ? * 6L *", "2026-01-01T00:00:00Z", "2026-01-30T10:00:00Z"},  // last Friday
		{"0 10 ? * L *", "2026-01-01T00:00:00Z", "2026-01-31T10:00:00Z"},   // last Saturday
		{"0 10 ? * 3#2 *", "2026-01-01T00:00:00Z", "2026-01-13T10:00:00Z"}, // second Tuesday
		{"0 10 ? * TUE#2 *", "2026-01-13T10:00:00Z", "2026-02-10T10:00:00Z"},
		{"15 3 1 JAN ? 2030", "2026-01-01T00:00:00Z", "2030-01-01T03:15:00Z"},
		{"15 3 1 JAN ? 2020", "2026-01-01T00:00:00Z", ""},
		{"0 0 30 2 ? *", "2026-01-01T00:00:00Z", ""},
		{"0 0 1,15 * ? 2026-2027/1", "2026-01-02T00:00:00Z", "2026-01-15T00:00:00Z"},
		{"5/20 1 * * ? *", "2026-01-01T01:06:00Z", "2026-01-01T01:25:00Z"},
	} {
		c, err := ParseCron(tc.expr)
		if err != nil {
			t.Errorf("ParseCron(%q): %v", tc.expr, err)
			continue
		}
		got := c.Next(mustTime(t, tc.after))
		if tc.want == "" {
			if !got.IsZero() {
				t.Errorf("%q after %s = %s, want never", tc.expr, tc.after, got)
			}
			continue
		}
		if want := mustTime(t, tc.want); !got.Equal(want) {
			t.Errorf("%q after %s = %s, want %s", tc.expr, tc.after, got.Format(time.RFC3339), tc.want)
		}
	}
}

func TestCronRefused(t *testing.T) {
	for _, expr := range []string{
		"", "0 8 1 * *", "0 8 1 * ? * *", "60 8 1 * ? *", "0 24 1 * ? *", "0 8 0 * ? *", "0 8 32 * ? *",
		"0 8 1 13 ? *", "0 8 ? * 8 *", "0 8 1 * 1 *", "0 8 ? * ? *", "0 8 1 * ? 1969", "0 8 1 * ? 2200",
		"0 8 5-1 * ? *", "0 8 1/0 * ? *", "0 8 1 FOO ? *", "0 8 ? * 2#6 *", "0 8 ? * 9#1 *", "0 8 32W * ? *",
		"0 8 ? * 8L *", "a b c d e f", "0 8 LW * ? *", "-1 8 1 * ? *", "0 8 1- * ? *", "0 8 1,,2 * ? *",
		"0 8 W * ? *", "0 8 ? * # *", "0 8 ? * 1# *", "00000 8 1 * ? *",
	} {
		if _, err := ParseCron(expr); err == nil {
			t.Errorf("ParseCron(%q) accepted it", expr)
		}
	}
}

func TestParseRules(t *testing.T) {
	for _, tc := range []struct {
		name  string
		r     Rules
		kind  error // nil: accepted
		last  string
		next  string
		until string // window end
	}{
		{"days", Rules{AutomaticallyAfterDays: 1}, nil, "2026-03-05T10:17:00Z", "2026-03-06T00:00:00Z", "2026-03-07T00:00:00Z"},
		{"days/30", Rules{AutomaticallyAfterDays: 30}, nil, "2026-03-05T10:17:00Z", "2026-04-04T00:00:00Z", "2026-04-05T00:00:00Z"},
		{"days/duration", Rules{AutomaticallyAfterDays: 2, Duration: "3h"}, nil, "2026-03-05T10:17:00Z", "2026-03-07T00:00:00Z", "2026-03-07T03:00:00Z"},
		{"rate/hours", Rules{ScheduleExpression: "rate(4 hours)"}, nil, "2026-03-05T10:17:30Z", "2026-03-05T14:17:00Z", "2026-03-05T15:17:00Z"},
		{"rate/days", Rules{ScheduleExpression: "rate(10 days)"}, nil, "2026-03-05T10:17:00Z", "2026-03-15T00:00:00Z", "2026-03-16T00:00:00Z"},
		{"cron/day", Rules{ScheduleExpression: "cron(0 8 1 * ? *)", Duration: "2h"}, nil, "2026-03-05T10:17:00Z", "2026-04-01T08:00:00Z", "2026-04-01T10:00:00Z"},
		{"cron/hours", Rules{ScheduleExpression: "cron(0 */6 * * ? *)"}, nil, "2026-03-05T10:17:00Z", "2026-03-05T12:00:00Z", "2026-03-05T13:00:00Z"},
		{"both", Rules{AutomaticallyAfterDays: 1, ScheduleExpression: "rate(1 days)"}, secrets.ErrInvalidParameter, "", "", ""},
		{"none", Rules{}, secrets.ErrInvalidParameter, "", "", ""},
		{"days/0", Rules{AutomaticallyAfterDays: -1}, secrets.ErrValidation, "", "", ""},
		{"days/1001", Rules{AutomaticallyAfterDays: 1001}, secrets.ErrValidation, "", "", ""},
		{"rate/3h", Rules{ScheduleExpression: "rate(3 hours)"}, secrets.ErrInvalidParameter, "", "", ""},
		{"rate/unit", Rules{ScheduleExpression: "rate(3 weeks)"}, secrets.ErrInvalidParameter, "", "", ""},
		{"rate/neg", Rules{ScheduleExpression: "rate(-3 days)"}, secrets.ErrInvalidParameter, "", "", ""},
		{"rate/1001d", Rules{ScheduleExpression: "rate(1001 days)"}, secrets.ErrInvalidParameter, "", "", ""},
		{"pattern", Rules{ScheduleExpression: "rate(1 day);"}, secrets.ErrValidation, "", "", ""},
		{"cron/often", Rules{ScheduleExpression: "cron(0 */2 * * ? *)"}, secrets.ErrInvalidParameter, "", "", ""},
		{"cron/minutes", Rules{ScheduleExpression: "cron(* 8 * * ? *)"}, secrets.ErrInvalidParameter, "", "", ""},
		{"cron/bad", Rules{ScheduleExpression: "cron(0 8 * * * *)"}, secrets.ErrInvalidParameter, "", "", ""},
		{"cron/never", Rules{ScheduleExpression: "cron(0 0 30 2 ? *)"}, secrets.ErrInvalidParameter, "", "", ""},
		{"junk", Rules{ScheduleExpression: "every day"}, secrets.ErrInvalidParameter, "", "", ""},
		{"duration/pattern", Rules{AutomaticallyAfterDays: 1, Duration: "3d"}, secrets.ErrValidation, "", "", ""},
		{"duration/long", Rules{AutomaticallyAfterDays: 1, Duration: "1000h"}, secrets.ErrValidation, "", "", ""},
		{"duration/25h", Rules{AutomaticallyAfterDays: 1, Duration: "25h"}, secrets.ErrInvalidParameter, "", "", ""},
		{"duration/0h", Rules{AutomaticallyAfterDays: 1, Duration: "0h"}, secrets.ErrInvalidParameter, "", "", ""},
		{"duration/overlap", Rules{ScheduleExpression: "rate(4 hours)", Duration: "5h"}, secrets.ErrInvalidParameter, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseRules(tc.r)
			if tc.kind != nil {
				if !errors.Is(err, tc.kind) {
					t.Fatalf("ParseRules(%+v) = %v, want an error of kind %v", tc.r, err, tc.kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			next := s.Next(mustTime(t, tc.last))
			if want := mustTime(t, tc.next); !next.Equal(want) {
				t.Errorf("Next = %s, want %s", next.Format(time.RFC3339), tc.next)
			}
			if want := mustTime(t, tc.until); !s.WindowEnd(next).Equal(want) {
				t.Errorf("WindowEnd = %s, want %s", s.WindowEnd(next).Format(time.RFC3339), tc.until)
			}
		})
	}
}
