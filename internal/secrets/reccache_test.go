package secrets

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// TestRecCacheMatchesDecoding checks that a record cached at a save is exactly what decoding
// the saved bytes gives, so that a cache hit and a miss cannot differ.
func TestRecCacheMatchesDecoding(t *testing.T) {
	now := time.Now().In(time.FixedZone("X", 3600)) // monotonic reading, non-UTC zone
	cases := map[string]*secretRec{
		"empty": {ARN: "arn:a", Name: "a"},
		"full": {
			ARN: "arn:b", Name: "b", Description: "d", Created: now, Changed: now.Add(time.Nanosecond),
			Accessed: now.Truncate(24 * time.Hour), Deleted: now, DeleteAt: now.Add(time.Hour),
			Tags: []Tag{{"k", "v"}}, Policy: `{"Version":"2012-10-17"}`,
			Versions: []versionRec{
				{ID: "v1", Stages: []string{}, Created: now},
				{ID: "v2", Stages: []string{"AWSCURRENT"}, Created: now, Accessed: now, Binary: true},
			},
		},
		"empty-lists": {ARN: "arn:c", Name: "c", Tags: []Tag{}, Versions: []versionRec{}},
	}
	for name, r := range cases {
		t.Run(name, func(t *testing.T) {
			c := newRecCache(8)
			r.normalize()
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			c.put(r.Name, b, r.clone())
			want, err := decodeRec(b)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.decode(r.Name, b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("cached %+v\ndecoded %+v", got, want)
			}
			// The caller owns what it gets: changing it leaves the cache alone.
			if len(got.Versions) > 0 {
				got.Versions[0].Stages = append(got.Versions[0].Stages, "X")
				got.Versions[0].ID = "changed"
				again, _ := c.decode(r.Name, b)
				if !reflect.DeepEqual(again, want) {
					t.Errorf("cache changed through a returned record: %+v", again)
				}
			}
			// Other bytes under the same name are decoded, not answered from the cache.
			r2 := r.clone()
			r2.Description = "other"
			b2, _ := json.Marshal(r2)
			got2, err := c.decode(r.Name, b2)
			if err != nil || got2.Description != "other" {
				t.Errorf("decode(other bytes) = %+v, %v", got2, err)
			}
		})
	}
}

func TestRecCacheBounded(t *testing.T) {
	c := newRecCache(4)
	for i := range 100 {
		r := &secretRec{ARN: "arn", Name: string(rune('a'+i%26)) + string(rune('a'+i/26))}
		b, _ := json.Marshal(r)
		c.put(r.Name, b, r)
	}
	if n := len(c.m); n > 4 {
		t.Errorf("cache holds %d entries, want at most 4", n)
	}
}
