package rotation

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Cron is a parsed cron() expression in AWS's six-field syntax (the one
// EventBridge and Secrets Manager use): minutes, hours, day of month,
// month, day of week, year, all in UTC.
//
//	field         values              wildcards
//	minutes       0-59                , - * /
//	hours         0-23                , - * /
//	day-of-month  1-31                , - * ? / L W
//	month         1-12 or JAN-DEC     , - * /
//	day-of-week   1-7 or SUN-SAT      , - * ? L #
//	year          1970-2199           , - * /
//
// One of day-of-month and day-of-week must be '?' (the other one chooses
// the days). Day-of-month takes L (the last day of the month) or NW (the
// weekday nearest day N, within the month) alone; day-of-week takes L
// (Saturday, the last day of the week), NL (the last weekday N of the
// month) or N#K (the K-th weekday N of the month) alone.
type Cron struct {
	minutes, hours, months []bool
	years                  []bool // index: year - minYear
	// Days: exactly one of dom and dow is set (the other field was '?').
	dom, dow []bool
	// Special day-of-month forms.
	lastDay     bool
	nearWeekday int // NW: 1-31, 0 when not used
	// Special day-of-week forms.
	lastDow int // NL: 1-7 (SUN=1), 0 when not used
	nthDow  int // N#K: weekday N …
	nth     int // … the K-th (1-5), 0 when not used
}

const (
	minYear = 1970
	maxYear = 2199
)

var (
	monthNames = []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}
	dayNames   = []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}
)

// ParseCron parses the text between "cron(" and ")".
func ParseCron(expr string) (*Cron, error) {
	fields := strings.Fields(expr)
	if len(fields) != 6 {
		return nil, fmt.Errorf("a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), this one has %d", len(fields))
	}
	c := &Cron{}
	var err error
	if c.minutes, err = parseField(fields[0], "minutes", 0, 59, nil); err != nil {
		return nil, err
	}
	if c.hours, err = parseField(fields[1], "hours", 0, 23, nil); err != nil {
		return nil, err
	}
	if c.months, err = parseField(fields[3], "month", 1, 12, monthNames); err != nil {
		return nil, err
	}
	if c.years, err = parseField(fields[5], "year", minYear, maxYear, nil); err != nil {
		return nil, err
	}
	if c.years != nil {
		c.years = c.years[minYear:]
	}
	dom, dow := fields[2], fields[4]
	switch {
	case dom == "?" && dow == "?":
		return nil, fmt.Errorf("day-of-month and day-of-week cannot both be '?'")
	case dom != "?" && dow != "?":
		return nil, fmt.Errorf("one of day-of-month and day-of-week must be '?'")
	case dow == "?":
		if err := c.parseDOM(dom); err != nil {
			return nil, err
		}
	default:
		if err := c.parseDOW(dow); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *Cron) parseDOM(f string) error {
	switch {
	case f == "L":
		c.lastDay = true
		return nil
	case strings.HasSuffix(f, "W"):
		n, err := number(strings.TrimSuffix(f, "W"), 1, 31)
		if err != nil {
			return fmt.Errorf("day-of-month: %q: NW needs a day from 1 to 31", f)
		}
		c.nearWeekday = n
		return nil
	}
	var err error
	c.dom, err = parseField(f, "day-of-month", 1, 31, nil)
	return err
}

func (c *Cron) parseDOW(f string) error {
	switch {
	case f == "L":
		c.lastDow = 7
		return nil
	case strings.HasSuffix(f, "L"):
		n, err := dayValue(strings.TrimSuffix(f, "L"))
		if err != nil {
			return fmt.Errorf("day-of-week: %q: NL needs a day from 1 to 7 or SUN to SAT", f)
		}
		c.lastDow = n
		return nil
	case strings.Contains(f, "#"):
		a, b, _ := strings.Cut(f, "#")
		n, err := dayValue(a)
		if err != nil {
			return fmt.Errorf("day-of-week: %q: N#K needs a day from 1 to 7 or SUN to SAT", f)
		}
		k, err := number(b, 1, 5)
		if err != nil {
			return fmt.Errorf("day-of-week: %q: N#K needs K from 1 to 5", f)
		}
		c.nthDow, c.nth = n, k
		return nil
	}
	var err error
	c.dow, err = parseField(f, "day-of-week", 1, 7, dayNames)
	return err
}

func dayValue(s string) (int, error) {
	for i, n := range dayNames {
		if strings.EqualFold(s, n) {
			return i + 1, nil
		}
	}
	return number(s, 1, 7)
}

// number reads a decimal number from lo to hi: digits only, at most 4.
func number(s string, lo, hi int) (int, error) {
	if s == "" || len(s) > 4 {
		return 0, fmt.Errorf("not a number")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("not a number")
		}
	}
	n, _ := strconv.Atoi(s)
	if n < lo || n > hi {
		return 0, fmt.Errorf("out of range")
	}
	return n, nil
}

// parseField parses a list of items: "*", "V", "A-B", each optionally
// followed by "/STEP". names, if given, are accepted for values lo,
// lo+1, …. It returns a set indexed by value (nil for "*": everything).
func parseField(f, what string, lo, hi int, names []string) ([]bool, error) {
	if f == "*" {
		return nil, nil
	}
	set := make([]bool, hi+1)
	value := func(s string) (int, error) {
		for i, n := range names {
			if strings.EqualFold(s, n) {
				return lo + i, nil
			}
		}
		return number(s, lo, hi)
	}
	for _, item := range strings.Split(f, ",") {
		rng, stepText, hasStep := strings.Cut(item, "/")
		step := 1
		if hasStep {
			var err error
			if step, err = number(stepText, 1, hi-lo+1); err != nil {
				return nil, fmt.Errorf("%s: %q: the step after '/' must be a number from 1 to %d", what, item, hi-lo+1)
			}
		}
		var a, b int
		switch {
		case rng == "*":
			a, b = lo, hi
		case strings.Contains(rng, "-"):
			x, y, _ := strings.Cut(rng, "-")
			var err1, err2 error
			a, err1 = value(x)
			b, err2 = value(y)
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("%s: %q is not a range of values from %d to %d", what, item, lo, hi)
			}
			if a > b {
				return nil, fmt.Errorf("%s: %q: a range must go upwards", what, item)
			}
		default:
			v, err := value(rng)
			if err != nil {
				return nil, fmt.Errorf("%s: %q is not a value from %d to %d", what, item, lo, hi)
			}
			a, b = v, v
			if hasStep {
				b = hi
			}
		}
		for v := a; v <= b; v += step {
			set[v] = true
		}
	}
	return set, nil
}

func in(set []bool, v int) bool { return set == nil || (v < len(set) && set[v]) }

// dayMatches reports whether the day d (midnight UTC) is chosen by the
// day-of-month or day-of-week field.
func (c *Cron) dayMatches(d time.Time) bool {
	y, m, day := d.Date()
	last := daysIn(y, m)
	wd := int(d.Weekday()) + 1 // SUN=1
	switch {
	case c.lastDay:
		return day == last
	case c.nearWeekday > 0:
		return day == nearestWeekday(y, m, c.nearWeekday)
	case c.lastDow > 0:
		return wd == c.lastDow && day+7 > last
	case c.nth > 0:
		return wd == c.nthDow && (day-1)/7+1 == c.nth
	case c.dow != nil:
		return c.dow[wd]
	default:
		return in(c.dom, day)
	}
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// nearestWeekday is the weekday (Monday to Friday) nearest to day n of the
// month, without leaving the month (Quartz's W).
func nearestWeekday(y int, m time.Month, n int) int {
	last := daysIn(y, m)
	if n > last {
		n = last
	}
	wd := time.Date(y, m, n, 0, 0, 0, 0, time.UTC).Weekday()
	switch wd {
	case time.Saturday:
		if n == 1 {
			return 3 // Monday
		}
		return n - 1
	case time.Sunday:
		if n == last {
			return n - 2 // Friday
		}
		return n + 1
	}
	return n
}

// Next returns the first time the expression chooses that is strictly
// after t (to the minute), or the zero time if there is none before the
// end of 2199.
func (c *Cron) Next(t time.Time) time.Time {
	t = t.UTC().Truncate(time.Minute).Add(time.Minute)
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	first := true
	for d.Year() <= maxYear {
		y := d.Year()
		if y < minYear || !in(c.years, y-minYear) {
			d = time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC)
			first = false
			continue
		}
		if !in(c.months, int(d.Month())) {
			d = time.Date(y, d.Month()+1, 1, 0, 0, 0, 0, time.UTC)
			first = false
			continue
		}
		if c.dayMatches(d) {
			h0, m0 := 0, 0
			if first {
				h0, m0 = t.Hour(), t.Minute()
			}
			for h := h0; h < 24; h++ {
				if !in(c.hours, h) {
					continue
				}
				start := 0
				if h == h0 {
					start = m0
				}
				for m := start; m < 60; m++ {
					if in(c.minutes, m) {
						return d.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
					}
				}
			}
		}
		d = d.AddDate(0, 0, 1)
		first = false
	}
	return time.Time{}
}

// hourly reports whether the expression chooses more than one hour of a
// day (a schedule "in hours", whose default window is one hour).
func (c *Cron) hourly() bool {
	if c.hours == nil {
		return true
	}
	n := 0
	for _, b := range c.hours {
		if b {
			n++
		}
	}
	return n > 1
}
