package secrets

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestRotationState(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const v1, v2 = "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"
	res, err := f.svc.Create(ctx, CreateInput{Name: "db", Value: StringValue(`{"password":"a"}`), VersionID: v1})
	if err != nil {
		t.Fatal(err)
	}
	sec, _ := f.svc.Describe(ctx, res.ARN)
	if sec.Rotation != nil {
		t.Fatalf("a new secret has a rotation state: %+v", sec.Rotation)
	}
	changed := sec.LastChanged
	// A claim by compare and swap: the second claimant finds it taken.
	claim := func(owner string) error {
		_, err := f.svc.UpdateRotation(ctx, "db", func(_ *Secret, rot *Rotation) error {
			if rot.ClaimedBy != "" {
				return errors.New("taken")
			}
			rot.Enabled, rot.AfterDays, rot.ClaimedBy, rot.ClaimedAt = true, 1, owner, f.clock.Now()
			return nil
		})
		return err
	}
	if err := claim("a"); err != nil {
		t.Fatal(err)
	}
	if err := claim("b"); err == nil {
		t.Fatal("a claimed rotation was claimed again")
	}
	sec, _ = f.svc.Describe(ctx, "db")
	if sec.Rotation == nil || sec.Rotation.ClaimedBy != "a" || !sec.Rotation.Enabled || !sec.LastChanged.Equal(changed) {
		t.Fatalf("after the claim: %+v, changed %v", sec.Rotation, sec.LastChanged)
	}
	// A pending version, then the finish.
	if _, err := f.svc.PutValue(ctx, PutInput{SecretID: "db", VersionID: v2, Value: StringValue(`{"password":"b"}`), Stages: []string{StagePending}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.FinishRotation(ctx, "db", v1, time.Time{}); err == nil {
		t.Error("FinishRotation accepted a version that is neither pending nor current")
	}
	f.clock.Set(t0.Add(time.Hour))
	next := t0.Add(25 * time.Hour)
	sec, err = f.svc.FinishRotation(ctx, "db", v2, next)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{v1: {StagePrevious}, v2: {StageCurrent}}
	if got := sec.VersionsToStages(); !reflect.DeepEqual(got, want) {
		t.Errorf("stages = %v, want %v", got, want)
	}
	r := sec.Rotation
	if r.ClaimedBy != "" || !r.LastRotated.Equal(t0.Add(time.Hour)) || !r.Next.Equal(next) || !r.Enabled || r.AfterDays != 1 {
		t.Errorf("rotation after the finish: %+v", r)
	}
	// A repeated finish changes nothing.
	if _, err := f.svc.FinishRotation(ctx, "db", v2, next); err != nil {
		t.Errorf("repeated FinishRotation: %v", err)
	}
	sec, _ = f.svc.Describe(ctx, "db")
	if got := sec.VersionsToStages(); !reflect.DeepEqual(got, want) {
		t.Errorf("stages after a repeated finish = %v", got)
	}
	// A secret scheduled for deletion cannot be claimed.
	if _, err := f.svc.Delete(ctx, "db", 7, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.UpdateRotation(ctx, "db", func(*Secret, *Rotation) error { return nil }); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("UpdateRotation on a deleted secret: %v", err)
	}
}
