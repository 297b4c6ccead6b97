package server

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

// pageToken encodes page positions for one protocol: base64url of a prefix
// and the position in decimal.
type pageToken struct {
	prefix string
	bad    *awsapi.Error // what a token that is not one of these gets
}

var (
	iamMarker = pageToken{prefix: "sf1:", bad: awsapi.Errorf(awsapi.CodeValidation,
		"1 validation error detected: Value at 'marker' failed to satisfy constraint: Member must be a marker returned by a previous call")}
	smNextToken = pageToken{prefix: "sm1:", bad: awsapi.Errorf(awsapi.CodeInvalidNextToken, "The NextToken value is invalid.")}
)

func (t pageToken) encode(pos int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(t.prefix + strconv.Itoa(pos)))
}

func (t pageToken) decode(s string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, t.bad
	}
	rest, ok := strings.CutPrefix(string(b), t.prefix)
	if !ok {
		return 0, t.bad
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 0 {
		return 0, t.bad
	}
	return n, nil
}

// cutPage returns the page of at most n items from position start, and the
// position of the next page, or -1 after the last.
func cutPage[T any](items []T, start, n int) ([]T, int) {
	start = min(start, len(items))
	end := start + n
	if end >= len(items) {
		return items[start:], -1
	}
	return items[start:end], end
}
