package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// newManCommand writes a man page per command, generated from the help
// text of the command tree (for packages: shortfuse man DIR).
func newManCommand(d *deps) *cobra.Command {
	return &cobra.Command{
		Use:    "man DIR",
		Short:  "Write man pages (section 1) for every command into DIR",
		Args:   cobra.ExactArgs(1),
		Hidden: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				return errors.New("man: " + dir + " is not a directory")
			}
			root := cmd.Root()
			root.DisableAutoGenTag = true // pages identical from build to build
			if err := doc.GenManTree(root, &doc.GenManHeader{Title: "SHORTFUSE", Section: "1", Source: "shortfuse " + currentBuild().Version, Manual: "shortfuse manual"}, dir); err != nil {
				return err
			}
			_, err := fmt.Fprintln(d.stdout, dir)
			return err
		},
	}
}
