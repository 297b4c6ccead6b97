package rotation

import (
	"fmt"
	"strings"
	"time"

	"github.com/shortfuse/shortfuse/internal/secrets"
)

// Rules is RotationRules as RotateSecret takes it and DescribeSecret shows
// it.
type Rules struct {
	AutomaticallyAfterDays int64
	ScheduleExpression     string
	Duration               string
}

// Bounds, from botocore's model and the Secrets Manager documentation.
const (
	MinDays      = 1
	MaxDays      = 1000
	MinInterval  = 4 * time.Hour // "You can rotate a secret as often as every four hours."
	maxScheduleL = 256
)

// Schedule is a validated set of rules.
type Schedule struct {
	Rules Rules
	every time.Duration // rate() and AutomaticallyAfterDays
	days  bool          // the rate is in days: windows start at midnight UTC
	cron  *Cron
	// window is the rotation window: Duration, or the default (one hour
	// for a schedule in hours, the rest of the UTC day for one in days).
	window time.Duration
}

func invalidParam(format string, args ...any) error {
	return &secrets.Error{Kind: secrets.ErrInvalidParameter, Msg: fmt.Sprintf(format, args...)}
}

func validation(field, constraint string) error {
	return &secrets.Error{Kind: secrets.ErrValidation, Msg: "1 validation error detected: Value at '" + field + "' failed to satisfy constraint: " + constraint}
}

// ParseRules checks rules as RotateSecret does: the model's constraints
// (ValidationException) first, then their meaning
// (InvalidParameterException).
func ParseRules(r Rules) (*Schedule, error) {
	if r.ScheduleExpression != "" {
		if len(r.ScheduleExpression) > maxScheduleL {
			return nil, validation("rotationRules.scheduleExpression", "Member must have length less than or equal to 256")
		}
		for _, c := range []byte(r.ScheduleExpression) {
			if !(isAlnum(c) || strings.IndexByte("()#?*-/, ", c) >= 0) {
				return nil, validation("rotationRules.scheduleExpression", `Member must satisfy regular expression pattern: [0-9A-Za-z\(\)#\?\*\-\/, ]+`)
			}
		}
	}
	var hours int
	if r.Duration != "" {
		if len(r.Duration) < 2 || len(r.Duration) > 3 {
			return nil, validation("rotationRules.duration", "Member must have length between 2 and 3")
		}
		n, err := number(strings.TrimSuffix(r.Duration, "h"), 0, 999)
		if err != nil || !strings.HasSuffix(r.Duration, "h") {
			return nil, validation("rotationRules.duration", "Member must satisfy regular expression pattern: [0-9]+h")
		}
		if n < 1 || n > 24 {
			return nil, invalidParam("The rotation window (Duration) must be from 1h to 24h: it cannot extend into the next UTC day.")
		}
		hours = n
	}
	s := &Schedule{Rules: r}
	switch {
	case r.AutomaticallyAfterDays != 0 && r.ScheduleExpression != "":
		return nil, invalidParam("You can't specify both AutomaticallyAfterDays and ScheduleExpression in RotationRules.")
	case r.AutomaticallyAfterDays != 0:
		if r.AutomaticallyAfterDays < MinDays || r.AutomaticallyAfterDays > MaxDays {
			return nil, validation("rotationRules.automaticallyAfterDays", fmt.Sprintf("Member must have value between %d and %d", MinDays, MaxDays))
		}
		s.every, s.days = time.Duration(r.AutomaticallyAfterDays)*24*time.Hour, true
	case r.ScheduleExpression == "":
		return nil, invalidParam("RotationRules must set AutomaticallyAfterDays or ScheduleExpression.")
	case strings.HasPrefix(r.ScheduleExpression, "rate(") && strings.HasSuffix(r.ScheduleExpression, ")"):
		if err := s.parseRate(strings.TrimSuffix(strings.TrimPrefix(r.ScheduleExpression, "rate("), ")")); err != nil {
			return nil, err
		}
	case strings.HasPrefix(r.ScheduleExpression, "cron(") && strings.HasSuffix(r.ScheduleExpression, ")"):
		c, err := ParseCron(strings.TrimSuffix(strings.TrimPrefix(r.ScheduleExpression, "cron("), ")"))
		if err != nil {
			return nil, invalidParam("The ScheduleExpression is not a valid cron expression: %s.", err)
		}
		s.cron = c
		if err := s.checkCron(); err != nil {
			return nil, err
		}
	default:
		return nil, invalidParam("The ScheduleExpression must be rate(N hours), rate(N days) or cron(minutes hours day-of-month month day-of-week year).")
	}
	hourly := s.cron != nil && s.cron.hourly() || s.cron == nil && !s.days
	switch {
	case hours > 0:
		s.window = time.Duration(hours) * time.Hour
		if s.cron == nil && !s.days && s.window > s.every {
			return nil, invalidParam("The rotation window (Duration) must not extend into the next rotation window.")
		}
	case hourly:
		s.window = time.Hour
	}
	return s, nil
}

func (s *Schedule) parseRate(body string) error {
	f := strings.Fields(body)
	if len(f) != 2 {
		return invalidParam("A rate expression is rate(N hours) or rate(N days).")
	}
	n, err := number(f[0], 1, 9999)
	if err != nil {
		return invalidParam("A rate expression needs a whole number of hours or days: rate(N hours), rate(N days).")
	}
	switch f[1] {
	case "hour", "hours":
		s.every = time.Duration(n) * time.Hour
	case "day", "days":
		s.every, s.days = time.Duration(n)*24*time.Hour, true
	default:
		return invalidParam("A rate expression's unit must be hours or days.")
	}
	if s.every < MinInterval {
		return invalidParam("The rotation schedule is too frequent: a secret can be rotated at most every four hours.")
	}
	if s.every > MaxDays*24*time.Hour {
		return invalidParam("The rotation interval must be at most %d days.", MaxDays)
	}
	return nil
}

// checkCron refuses an expression that never fires (in the next hundred
// years) or that fires more often than every four hours.
func (s *Schedule) checkCron() error {
	t := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	prev := s.cron.Next(t)
	if prev.IsZero() {
		prev = s.cron.Next(time.Now())
		if prev.IsZero() {
			return invalidParam("The cron expression never chooses a time.")
		}
	}
	for range 64 {
		next := s.cron.Next(prev)
		if next.IsZero() {
			break
		}
		if next.Sub(prev) < MinInterval {
			return invalidParam("The rotation schedule is too frequent: a secret can be rotated at most every four hours.")
		}
		prev = next
	}
	return nil
}

// Next is the start of the first rotation window after a rotation at
// last: for rate() and AutomaticallyAfterDays, the interval after last
// (for days, from midnight UTC of last's day: the window starts at
// midnight); for cron(), the expression's next time. Zero: never.
func (s *Schedule) Next(last time.Time) time.Time {
	last = last.UTC()
	switch {
	case s.cron != nil:
		return s.cron.Next(last)
	case s.days:
		d := time.Date(last.Year(), last.Month(), last.Day(), 0, 0, 0, 0, time.UTC)
		return d.Add(s.every)
	default:
		return last.Add(s.every).Truncate(time.Minute)
	}
}

// WindowEnd is the end of the rotation window that starts at start.
func (s *Schedule) WindowEnd(start time.Time) time.Time {
	if s.window > 0 {
		return start.Add(s.window)
	}
	y, m, d := start.UTC().Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// FormatDays is AutomaticallyAfterDays as DescribeSecret shows it for a
// schedule given as rate(N days).
func (s *Schedule) FormatDays() int64 {
	if s.Rules.AutomaticallyAfterDays != 0 {
		return s.Rules.AutomaticallyAfterDays
	}
	if s.days {
		return int64(s.every / (24 * time.Hour))
	}
	return 0
}
