package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shortfuse/shortfuse/internal/audit"
)

func newAuditCommand(d *deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Verify and read the broker's audit log",
		Long: `Verify and read the broker's audit log: one JSON record per request (DIR/audit.log in the
data directory, or --audit-log), hash-chained so that an edit, a deletion or a reordering shows.
When the log rotates, its older files are named audit.log.<first-seq>-<last-seq>.`,
	}
	cmd.AddCommand(newAuditVerifyCommand(d))
	cmd.AddCommand(newAuditTailCommand(d))
	return cmd
}

func newAuditVerifyCommand(d *deps) *cobra.Command {
	var pruned bool
	cmd := &cobra.Command{
		Use:   "verify FILE...",
		Short: "Check that the audit log's hash chain is whole",
		Long: `Check the hash chain of an audit log: every record's hash, its link to the record before,
dense sequence numbers from 1, and no partial record at the end. Give every file of the log,
rotated ones included, in any order (shortfuse audit verify DIR/audit.log*).

Exits 0 and prints the number of records and the head of the chain (compare it with a head
published earlier to see whether whole records were cut from the end); exits 1 and says
where the chain breaks, and why, when it does not hold. With --pruned, the chain may start
after seq 1 (the oldest rotated files were pruned by --audit-keep, and shipped): its first
record's link to the pruned ones is taken on trust, and verify says where it starts.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			verify := audit.Verify
			if pruned {
				verify = audit.VerifyPruned
			}
			res, err := verify(args...)
			if err != nil {
				return err
			}
			if !res.OK {
				e := fmt.Errorf("broken at seq %d (%s:%d): %s", res.BrokenAt, res.BrokenFile, res.Line, res.Reason)
				hint := fmt.Sprintf("the chain is whole up to seq %d", res.LastSeq)
				if res.BrokenAt == 1 && strings.Contains(res.Reason, "chain starts at") {
					hint = "give every file of the log, the rotated ones too: " + logGlob(res.BrokenFile)
				}
				return &hintError{err: e, hint: hint}
			}
			if res.StartSeq > 1 {
				_, err = fmt.Fprintf(d.stdout, "ok: %d records, chain whole from seq %d (the records before were pruned)\nhead: seq %d hash %s\n", res.Records, res.StartSeq, res.LastSeq, orDash(res.LastHash))
				return err
			}
			_, err = fmt.Fprintf(d.stdout, "ok: %d records, chain whole\nhead: seq %d hash %s\n", res.Records, res.LastSeq, orDash(res.LastHash))
			return err
		},
	}
	cmd.Flags().BoolVar(&pruned, "pruned", false, "the oldest rotated files were pruned: check the chain from the first record present")
	return cmd
}

// logGlob returns the shell pattern naming every file of the log that file belongs to.
func logGlob(file string) string {
	dir, base := filepath.Split(file)
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		if a, b, ok := strings.Cut(base[i+1:], "-"); ok && isDigits(a) && isDigits(b) {
			base = base[:i]
		}
	}
	return dir + base + "*"
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

type auditTailInput struct {
	follow     bool
	principal  string
	event      string
	errorsOnly bool
	since      string
	json       bool
	lines      int

	sinceTime time.Time // from since, by validate
}

func (in *auditTailInput) validate(now time.Time) error {
	if in.lines < 0 {
		return fmt.Errorf("--lines %d: want 0 (all) or more", in.lines)
	}
	if in.since != "" {
		if d, err := time.ParseDuration(in.since); err == nil {
			if d <= 0 {
				return fmt.Errorf("--since %s: want a positive duration", in.since)
			}
			in.sinceTime = now.Add(-d)
		} else if t, err := time.Parse(time.RFC3339, in.since); err == nil {
			in.sinceTime = t
		} else {
			return fmt.Errorf("--since %q: want a duration (90m, 24h) or a time (2026-11-25T19:30:00Z)", in.since)
		}
	}
	return nil
}

func newAuditTailCommand(d *deps) *cobra.Command {
	in := &auditTailInput{}
	cmd := &cobra.Command{
		Use:   "tail [flags] FILE",
		Short: "Show the last records of the audit log",
		Long: `Show the last records of the audit log, one line each:

  TIME #SEQ PRINCIPAL SERVICE:EVENT OUTCOME DECISION
  2026-11-25T19:30:05Z #42 arn:aws:sts::111122223333:assumed-role/deploy/job-42 secretsmanager:GetSecretValue ok allowed(role/deploy/ReadProd#0)

OUTCOME is ok, the AWS error code, or intent (the record a state-changing request writes
before it executes); DECISION is the deciding authorization decision, with the policy and
statement index that made it. --json prints the records as stored instead. tail reads the
records without verifying them: use shortfuse audit verify for that.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := in.validate(d.now()); err != nil {
				return err
			}
			opts := audit.TailOptions{
				Filter: audit.Filter{Principal: in.principal, Event: in.event, ErrorsOnly: in.errorsOnly, Since: in.sinceTime},
				Lines:  in.lines,
				Follow: in.follow,
				Warn:   func(msg string) { fmt.Fprintf(d.stderr, "shortfuse: warning: %s\n", oneLine(msg)) },
			}
			err := audit.Tail(cmd.Context(), args[0], opts, func(r *audit.Record, line []byte) error {
				var err error
				if in.json {
					_, err = fmt.Fprintf(d.stdout, "%s\n", line)
				} else {
					_, err = fmt.Fprintln(d.stdout, audit.Format(r))
				}
				return err
			})
			return err
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&in.follow, "follow", "f", false, "keep showing records as they are written, across rotations, until interrupted")
	f.StringVar(&in.principal, "principal", "", "only records of this caller: an ARN or access key id, '*' and '?' as in IAM (a role's ARN selects its sessions)")
	f.StringVar(&in.event, "event", "", "only these events: GetSecretValue, Get*, secretsmanager:* (case-insensitive)")
	f.BoolVar(&in.errorsOnly, "errors-only", false, "only records of requests that failed or were denied")
	f.StringVar(&in.since, "since", "", "only records from this long ago (90m, 24h) or this time (RFC 3339) on")
	f.BoolVar(&in.json, "json", false, "print the records as stored, one JSON object a line")
	f.IntVarP(&in.lines, "lines", "n", 10, "show the last N matching records first; 0 shows them all")
	return cmd
}
