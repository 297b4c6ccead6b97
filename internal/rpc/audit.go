package rpc

import (
	"context"

	"github.com/shortfuse/shortfuse/internal/audit"
)

// Auditor receives the broker's audit records. Append returns only when the
// record is durable.
type Auditor interface {
	Append(ctx context.Context, r *audit.Record) error
}
