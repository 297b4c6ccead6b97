// Package brokerwire holds the shapes of the broker's own shortfuse
// service that the broker (internal/server) writes and its client
// (internal/client/brokerapi) reads, defined once so that the two cannot
// drift apart.
package brokerwire

import (
	"encoding/json"
	"errors"
	"math"
	"time"
)

// EpochTime is a time sent as epoch seconds (an integer or a fraction).
type EpochTime struct{ time.Time }

// UnmarshalJSON reads epoch seconds; null or 0 is the zero time.
func (t *EpochTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		t.Time = time.Time{}
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return errors.New("want epoch seconds")
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1<<40 {
		return errors.New("epoch seconds out of range")
	}
	if f < 1 {
		// 0 means "never"; the first second of 1970 means nothing else.
		t.Time = time.Time{}
		return nil
	}
	sec, frac := math.Modf(f)
	t.Time = time.Unix(int64(sec), int64(frac*1e9)).UTC()
	return nil
}

// MarshalJSON writes epoch seconds.
func (t EpochTime) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.Unix())
}

// Build identifies the CI build that asks for an approval.
type Build struct {
	System         string `json:"System,omitempty"`
	URL            string `json:"Url,omitempty"`
	Job            string `json:"Job,omitempty"`
	Number         string `json:"Number,omitempty"`
	Commit         string `json:"Commit,omitempty"`
	ParametersHash string `json:"ParametersHash,omitempty"`
}

// Approval is one approver's decision on an approval request.
type Approval struct {
	Approver        string    `json:"Approver"`
	UserName        string    `json:"UserName"`
	ApprovedAt      EpochTime `json:"ApprovedAt"`
	DurationSeconds int64     `json:"DurationSeconds,omitempty"`
	AttachedPolicy  bool      `json:"AttachedPolicy,omitempty"`
}

// CreateRequestOutput is the broker's receipt for an approval request.
type CreateRequestOutput struct {
	Code              string    `json:"Code"`
	Status            string    `json:"Status"`
	ExpiresAt         EpochTime `json:"ExpiresAt"`
	ApprovalsRequired int       `json:"ApprovalsRequired"`
	ApprovalPath      string    `json:"ApprovalPath"`
}

// RedeemRequestOutput holds the session of an approved request, sealed to
// the job's wrap key.
type RedeemRequestOutput struct {
	Code              string    `json:"Code"`
	SealedCredentials []byte    `json:"SealedCredentials"`
	Expiration        EpochTime `json:"Expiration"`
}
