package seal

import (
	"bytes"
	"log/slog"
)

func logText(v any) string {
	var b bytes.Buffer
	slog.New(slog.NewTextHandler(&b, nil)).Info("m", "k", v)
	return b.String()
}

func logJSON(v any) string {
	var b bytes.Buffer
	slog.New(slog.NewJSONHandler(&b, nil)).Info("m", "k", v)
	return b.String()
}
