package audit

import (
	"bytes"
	"crypto/sha256"
)

// VerifyBytes verifies a log held in memory as one file named "log", for the fuzz target.
func VerifyBytes(data []byte) (VerifyResult, error) {
	var v verifier
	v.res.Files = []string{"log"}
	ok, err := v.file("log", bytes.NewReader(data))
	v.res.OK = ok && err == nil
	return v.res, err
}

// EncodeLine encodes r as the first record of a log would be, newline included.
func EncodeLine(r *Record, o Options) ([]byte, error) {
	if err := fill(r, o); err != nil {
		return nil, err
	}
	body, err := encodeBody(r)
	if err != nil {
		return nil, err
	}
	line, h := appendLine(nil, sha256.New(), body, 1, "")
	r.Seq, r.Hash = 1, h
	return line, nil
}
