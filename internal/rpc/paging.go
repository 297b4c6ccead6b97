package rpc

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/shortfuse/shortfuse/internal/awsapi"
)

// Paging is the same for every list operation: the handler builds the full
// list, and a page is cut out of it at a position that the client gets back
// as an opaque token (IAM's Marker, Secrets Manager's NextToken). A list
// that changes between two calls may repeat or skip an item, as AWS allows.

// PageToken encodes page positions for one protocol: base64url of a prefix
// and the position in decimal.
type PageToken struct {
	Prefix string
	Bad    *awsapi.Error // what a token that is not one of these gets
}

// Encode is the token of position pos.
func (t PageToken) Encode(pos int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(t.Prefix + strconv.Itoa(pos)))
}

// Decode returns the position of a token, or t.Bad.
func (t PageToken) Decode(s string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, t.Bad
	}
	rest, ok := strings.CutPrefix(string(b), t.Prefix)
	if !ok {
		return 0, t.Bad
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 0 {
		return 0, t.Bad
	}
	return n, nil
}

// CutPage returns the page of at most n items from position start, and the
// position of the next page, or -1 after the last.
func CutPage[T any](items []T, start, n int) ([]T, int) {
	start = min(start, len(items))
	end := start + n
	if end >= len(items) {
		return items[start:], -1
	}
	return items[start:end], end
}
