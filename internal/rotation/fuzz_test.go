package rotation

import (
	"testing"
	"time"
)

// FuzzParseRules: any schedule expression and duration is parsed without
// panicking; an accepted schedule's next windows move forward.
func FuzzParseRules(f *testing.F) {
	for _, s := range []string{
		"rate(4 hours)", "rate(10 days)", "cron(0 8 1 * ? *)", "cron(0 */4 * * ? *)", "cron(30 2 ? * MON-FRI *)",
		"cron(0 0 L * ? *)", "cron(0 0 15W * ? *)", "cron(0 10 ? * 6L *)", "cron(0 10 ? * 3#2 2027-2030)",
		"cron(0 0 1,15 JAN-MAR/2 ? */3)", "rate(0 days)", "cron(*/5 * * * ? *)", "cron()",
	} {
		f.Add(s, "", int64(0), int64(1767225600))
	}
	f.Add("", "3h", int64(7), int64(0))
	f.Fuzz(func(t *testing.T, expr, duration string, days, last int64) {
		s, err := ParseRules(Rules{AutomaticallyAfterDays: days, ScheduleExpression: expr, Duration: duration})
		if err != nil {
			return
		}
		at := time.Unix(last%(1<<33), 0).UTC()
		next := s.Next(at)
		if next.IsZero() {
			return
		}
		if !next.After(at.Add(-24 * time.Hour)) {
			t.Fatalf("%q: Next(%s) = %s goes backwards", expr, at, next)
		}
		if end := s.WindowEnd(next); !end.After(next) {
			t.Fatalf("%q: window [%s, %s) is empty", expr, next, end)
		}
		if s.cron != nil {
			if n2 := s.cron.Next(next); !n2.IsZero() && n2.Sub(next) < MinInterval {
				t.Fatalf("%q: fires at %s and %s", expr, next, n2)
			}
		}
	})
}

// FuzzParseCron: any text is parsed without panicking, and Next of an
// accepted expression is after its argument.
func FuzzParseCron(f *testing.F) {
	for _, s := range []string{"0 8 1 * ? *", "0 10 ? * 6L *", "0 0 31W * ? *", "0 10 ? * TUE#2 *", "5/20 1 * * ? 2026-2199/7"} {
		f.Add(s, int64(1767225600))
	}
	f.Fuzz(func(t *testing.T, expr string, at int64) {
		c, err := ParseCron(expr)
		if err != nil {
			return
		}
		from := time.Unix(at%(1<<33), 0).UTC()
		if n := c.Next(from); !n.IsZero() && !n.After(from) {
			t.Fatalf("%q: Next(%s) = %s", expr, from, n)
		}
	})
}
