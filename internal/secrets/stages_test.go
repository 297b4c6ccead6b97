package secrets

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// TestStageTransitions is the table of staging-label transitions, each
// checked against the Secrets Manager API reference (PutSecretValue,
// UpdateSecret, UpdateSecretVersionStage):
//
//   - a new version without VersionStages gets AWSCURRENT; a secret's first
//     version gets AWSCURRENT whatever it was given;
//   - a label given to a version leaves the version that had it;
//   - whenever AWSCURRENT moves, AWSPREVIOUS moves to the version AWSCURRENT
//     left;
//   - a new current version leaves the old one with AWSPREVIOUS and without
//     AWSPENDING, if it had both AWSCURRENT and AWSPENDING (observed in AWS:
//     a rotation finished without removing AWSPENDING must not leave a
//     stale pending version);
//   - UpdateSecretVersionStage never moves a label from a version not named
//     in RemoveFromVersionId, and never removes AWSCURRENT.
//
// Versions are named v1, v2, … in the order made; each step is one call.
func TestStageTransitions(t *testing.T) {
	type step struct {
		op     string // "put", "update" (UpdateSecret with a value), "stage"
		stages []string
		// for "stage": label, from and to (version names, "" for none)
		label, from, to string
	}
	put := func(stages ...string) step { return step{op: "put", stages: stages} }
	update := step{op: "update"}
	move := func(label, from, to string) step { return step{op: "stage", label: label, from: from, to: to} }
	const (
		cur  = StageCurrent
		prev = StagePrevious
		pend = StagePending
	)
	tests := []struct {
		name    string
		steps   []step
		want    string // "v1=L1,L2 v2=" in version order; labels sorted
		wantErr error  // of the last step
	}{
		{name: "ok/first-put-is-current", steps: []step{put()}, want: "v1=AWSCURRENT"},
		{name: "ok/first-put-pending-is-current-too", steps: []step{put(pend)}, want: "v1=AWSCURRENT,AWSPENDING"},
		{name: "ok/first-put-custom-is-current-too", steps: []step{put("blue")}, want: "v1=AWSCURRENT,blue"},
		{name: "ok/second-put-moves-previous", steps: []step{put(), put()}, want: "v1=AWSPREVIOUS v2=AWSCURRENT"},
		{name: "ok/third-put-deprecates-oldest", steps: []step{put(), put(), put()}, want: "v1= v2=AWSPREVIOUS v3=AWSCURRENT"},
		{name: "ok/update-is-a-put", steps: []step{put(), update}, want: "v1=AWSPREVIOUS v2=AWSCURRENT"},
		{name: "ok/pending-put-leaves-current", steps: []step{put(), put(pend)}, want: "v1=AWSCURRENT v2=AWSPENDING"},
		{name: "ok/pending-moves-to-newer-pending", steps: []step{put(), put(pend), put(pend)}, want: "v1=AWSCURRENT v2= v3=AWSPENDING"},
		{name: "ok/custom-put-leaves-current", steps: []step{put(), put("blue")}, want: "v1=AWSCURRENT v2=blue"},
		{name: "ok/current-and-custom-put", steps: []step{put(), put(cur, "blue")}, want: "v1=AWSPREVIOUS v2=AWSCURRENT,blue"},
		{name: "ok/explicit-previous-put", steps: []step{put(), put(), put(prev)}, want: "v1= v2=AWSCURRENT v3=AWSPREVIOUS"},
		{name: "ok/rotation-by-hand", steps: []step{put(), put(pend), move(cur, "v1", "v2")}, want: "v1=AWSPREVIOUS v2=AWSCURRENT,AWSPENDING"},
		{name: "ok/rotation-then-remove-pending", steps: []step{put(), put(pend), move(cur, "v1", "v2"), move(pend, "v2", "")}, want: "v1=AWSPREVIOUS v2=AWSCURRENT"},
		{name: "ok/put-after-current-and-pending-keeps-previous-only", steps: []step{put(), put(pend), move(cur, "v1", "v2"), put()},
			want: "v1= v2=AWSPREVIOUS v3=AWSCURRENT"},
		{name: "ok/update-after-current-and-pending-keeps-previous-only", steps: []step{put(), put(pend), move(cur, "v1", "v2"), update},
			want: "v1= v2=AWSPREVIOUS v3=AWSCURRENT"},
		{name: "ok/pending-put-after-current-and-pending-moves-pending", steps: []step{put(), put(pend), move(cur, "v1", "v2"), put(pend)},
			want: "v1=AWSPREVIOUS v2=AWSCURRENT v3=AWSPENDING"},
		{name: "ok/custom-put-after-current-and-pending-keeps-both", steps: []step{put(), put(pend), move(cur, "v1", "v2"), put("blue")},
			want: "v1=AWSPREVIOUS v2=AWSCURRENT,AWSPENDING v3=blue"},
		{name: "ok/first-version-current-and-pending-then-put", steps: []step{put(pend), put()}, want: "v1=AWSPREVIOUS v2=AWSCURRENT"},
		{name: "ok/move-current-back", steps: []step{put(), put(), move(cur, "v2", "v1")}, want: "v1=AWSCURRENT v2=AWSPREVIOUS"},
		{name: "ok/move-previous-explicitly", steps: []step{put(), put(), put(), move(prev, "v2", "v1")}, want: "v1=AWSPREVIOUS v2= v3=AWSCURRENT"},
		{name: "ok/attach-custom-to-unlabelled", steps: []step{put(), put(), put(), move("blue", "", "v1")}, want: "v1=blue v2=AWSPREVIOUS v3=AWSCURRENT"},
		{name: "ok/move-to-holder-is-a-no-op", steps: []step{put(), move(cur, "", "v1")}, want: "v1=AWSCURRENT"},
		{name: "ok/remove-custom", steps: []step{put("blue"), move("blue", "v1", "")}, want: "v1=AWSCURRENT"},
		{name: "fail/remove-current", steps: []step{put(), move(cur, "v1", "")}, want: "v1=AWSCURRENT", wantErr: ErrInvalidParameter},
		{name: "fail/move-current-without-remove-from", steps: []step{put(), put(pend), move(cur, "", "v2")}, want: "v1=AWSCURRENT v2=AWSPENDING", wantErr: ErrInvalidParameter},
		{name: "fail/move-with-wrong-remove-from", steps: []step{put(), put(), put(pend), move(cur, "v1", "v3")}, want: "v1=AWSPREVIOUS v2=AWSCURRENT v3=AWSPENDING", wantErr: ErrInvalidParameter},
		{name: "fail/remove-label-the-version-lacks", steps: []step{put(), put(pend), move(pend, "v1", "")}, want: "v1=AWSCURRENT v2=AWSPENDING", wantErr: ErrInvalidParameter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			f.create(t, "s", "")
			var ids []string
			name := map[string]string{} // version id → v1, v2, …
			idOf := func(v string) string {
				if v == "" {
					return ""
				}
				var i int
				fmt.Sscanf(v, "v%d", &i)
				return ids[i-1]
			}
			var err error
			for n, s := range tt.steps {
				var res *Result
				switch s.op {
				case "put":
					in := PutInput{SecretID: "s", Value: StringValue(fmt.Sprintf("value-%d", n)), Stages: s.stages}
					res, err = f.svc.PutValue(ctx, in)
				case "update":
					res, err = f.svc.Update(ctx, UpdateInput{SecretID: "s", Value: StringValue(fmt.Sprintf("value-%d", n))})
				case "stage":
					_, err = f.svc.UpdateStage(ctx, "s", s.label, idOf(s.from), idOf(s.to))
				}
				if err != nil && n < len(tt.steps)-1 {
					t.Fatalf("step %d (%s): %v", n+1, s.op, err)
				}
				if res != nil && res.VersionID != "" {
					ids = append(ids, res.VersionID)
					name[res.VersionID] = fmt.Sprintf("v%d", len(ids))
				}
			}
			wantKind(t, "last step", err, tt.wantErr)
			got := f.stages(t, "s")
			var parts []string
			for _, id := range ids {
				labels := got[id]
				sort.Strings(labels)
				parts = append(parts, name[id]+"="+strings.Join(labels, ","))
			}
			if g := strings.Join(parts, " "); g != tt.want {
				t.Errorf("stages = %s\nwant     %s", g, tt.want)
			}
			if !reflect.DeepEqual(len(got), len(ids)) {
				t.Errorf("the secret has %d versions, %d made", len(got), len(ids))
			}
		})
	}
}
