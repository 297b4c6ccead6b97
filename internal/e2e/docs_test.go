package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// docBlock is a shell block of a page marked runnable, with what its
// marker asks for:
//
//	<!-- runnable -->
//	<!-- runnable: files=secret.txt needs=oathtool -->
//
// files are written (a random value each) before the page's blocks run;
// needs are programs the blocks call.
type docBlock struct {
	line  int
	text  string
	files []string
	needs []string
}

var reRunnable = regexp.MustCompile(`^<!-- runnable(?::((?:\s+(?:files|needs)=[^\s]+)+))?\s*-->$`)

// runnableBlocks returns the runnable blocks of a Markdown page, in order.
// A marker not followed by a sh block is an error.
func runnableBlocks(t *testing.T, path string) []docBlock {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []docBlock
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(l, "<!-- runnable") {
			continue
		}
		m := reRunnable.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("%s:%d: malformed marker %q", path, i+1, l)
		}
		b := docBlock{line: i + 2}
		for _, opt := range strings.Fields(m[1]) {
			k, v, _ := strings.Cut(opt, "=")
			if k == "files" {
				b.files = strings.Split(v, ",")
			} else {
				b.needs = strings.Split(v, ",")
			}
		}
		if i+1 >= len(lines) || strings.TrimSpace(lines[i+1]) != "```sh" {
			t.Fatalf("%s:%d: a runnable marker must be followed by a ```sh block", path, i+1)
		}
		var body []string
		for i += 2; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			body = append(body, lines[i])
		}
		b.text = strings.Join(body, "\n")
		blocks = append(blocks, b)
	}
	return blocks
}

// TestDocsRun runs the shell blocks marked runnable in README.md and
// docs/*.md, page by page against a broker of their own, as a reader would:
// the blocks of a page in order in one shell, in a directory whose
// shortfuse-data is the broker's data directory, with shortfuse and the aws
// CLI on PATH, the administrator's credentials and the broker's address in
// the environment. Only the port is adapted (127.0.0.1:7575 becomes the
// broker's). A page that drifts from the program fails here.
func TestDocsRun(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	pages = append([]string{filepath.Join(root, "README.md")}, pages...)
	total := 0
	for _, page := range pages {
		blocks := runnableBlocks(t, page)
		if len(blocks) == 0 {
			continue
		}
		total += len(blocks)
		t.Run(filepath.Base(page), func(t *testing.T) {
			t.Parallel()
			runPage(t, page, blocks)
		})
	}
	if total < 3 {
		t.Fatalf("%d runnable blocks in the docs, want at least 3 (README, APPROVALS.md)", total)
	}
}

func runPage(t *testing.T, page string, blocks []docBlock) {
	for _, b := range blocks {
		for _, n := range b.needs {
			if _, err := exec.LookPath(n); err != nil {
				if os.Getenv("CI") != "" {
					t.Fatalf("%s:%d needs %s (CI installs it)", page, b.line, n)
				}
				t.Skipf("%s:%d needs %s", page, b.line, n)
			}
		}
	}
	b := startBroker(t, "")
	dir := t.TempDir()
	if err := os.Symlink(b.dir, filepath.Join(dir, "shortfuse-data")); err != nil {
		t.Fatal(err)
	}
	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	for _, blk := range blocks {
		for _, f := range blk.files {
			v := make([]byte, 12)
			_, _ = rand.Read(v)
			if err := os.WriteFile(filepath.Join(dir, f), []byte(hex.EncodeToString(v)), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		fmt.Fprintf(&script, "echo '--- %s:%d' >&2\n", filepath.Base(page), blk.line)
		script.WriteString(strings.ReplaceAll(blk.text, "http://127.0.0.1:7575", b.url))
		script.WriteString("\n")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	cmd.Dir = dir
	cmd.Env = append(b.cliEnv(creds{}),
		"PATH="+filepath.Dir(mustBinary(t))+string(os.PathListSeparator)+os.Getenv("PATH"),
		"AWS_SHARED_CREDENTIALS_FILE=shortfuse-data/admin-credentials",
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		// The last block marker shows which block failed.
		last, sc := "", bufio.NewScanner(bytes.NewReader(out.Bytes()))
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "--- ") {
				last = strings.TrimPrefix(sc.Text(), "--- ")
			}
		}
		t.Fatalf("the block at %s fails: %v\n%s", last, err, out.String())
	}
}
