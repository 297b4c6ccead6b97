package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// The commands print JSON indented by two spaces, and tables in columns
// two spaces apart.

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeJSONList prints list as the one member of an object, [] when it is
// empty.
func writeJSONList[T any](w io.Writer, member string, list []T) error {
	if list == nil {
		list = []T{}
	}
	return writeJSON(w, map[string][]T{member: list})
}

// printList prints list as the JSON object of writeJSONList with asJSON,
// else as a table with header and a row for each item, as row writes it.
func printList[T any](w io.Writer, asJSON bool, member string, list []T, header string, row func(tw io.Writer, item T)) error {
	if asJSON {
		return writeJSONList(w, member, list)
	}
	tw := newTable(w, header)
	for _, item := range list {
		row(tw, item)
	}
	return tw.Flush()
}

// newTable starts a table on w with its header, columns separated by tabs;
// Flush prints it.
func newTable(w io.Writer, header string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	return tw
}
