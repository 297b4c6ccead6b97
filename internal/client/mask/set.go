package mask

import "bytes"

// Redacted replaces every masked occurrence.
const Redacted = "****"

// Set is a compiled set of patterns: an Aho–Corasick automaton. It is
// immutable and safe for concurrent use by many [Writer]s.
type Set struct {
	// root is the dense transition row of the root state (state 0).
	root [256]int32
	// Children of state s are edgeByte/edgeTo[edgeStart[s]:edgeStart[s+1]].
	edgeStart []int32
	edgeByte  []byte
	edgeTo    []int32
	fail      []int32
	// depth is the length of the string that leads to the state: the
	// longest suffix of the input that is a prefix of some pattern.
	depth []int32
	// out is the length of the longest pattern that ends in this state
	// (following dictionary links), or 0.
	out      []int32
	patterns int
	// dense holds a full transition row (failure links resolved) for the
	// states with at least denseMin children, indexed by denseOf[state]-1:
	// with fragments, the states near the root fan out widely and a scan
	// of their edges would dominate.
	dense   [][256]int32
	denseOf []int32
}

// denseMin is the number of children from which a state gets a dense row.
const denseMin = 4

// FragmentLen is the shortest run of a value, or of one of its encodings,
// that [Compile] masks wherever the run starts and ends: a long enough
// piece of a secret is the secret (cut -c1-60 of an environment printed 38
// of the 40 characters of a secret key). A value or encoding shorter than
// FragmentLen is masked whole only.
const FragmentLen = 12

// Compile builds the automaton for values, each expanded by [Variants],
// and every run of [FragmentLen] characters of each variant. Values
// shorter than [MinLen] contribute nothing; an empty Set masks nothing.
func Compile(values ...[]byte) *Set {
	return compile(values, FragmentLen)
}

// compile is Compile with the fragment length as a parameter; 0 masks
// whole variants only.
func compile(values [][]byte, fragment int) *Set {
	var pats [][]byte
	for _, v := range values {
		for _, p := range Variants(v) {
			pats = append(pats, p)
			pats = append(pats, fragments(p, fragment)...)
		}
	}
	return compilePatterns(pats)
}

// fragments returns every run of n bytes of p, for a p longer than n and
// no longer than the values whose encodings are expanded, that holds no
// line break. The automaton
// reports each as a match; overlapping matches merge into one masked range,
// so any longer run is masked whole.
func fragments(p []byte, n int) [][]byte {
	if n < MinLen || len(p) <= n || len(p) > maxEncodedLen {
		return nil
	}
	out := make([][]byte, 0, len(p)-n+1)
	for i := 0; i+n <= len(p); i++ {
		// A run across a line break is not masked as a fragment: the
		// lines of a value are variants of their own, with their own
		// fragments, and the break shows.
		if w := p[i : i+n]; !bytes.ContainsAny(w, "\r\n") {
			out = append(out, w)
		}
	}
	return out
}

// CompileExact builds the automaton for exactly these patterns, without
// expanding encodings. Patterns shorter than [MinLen] are still dropped.
func CompileExact(patterns ...[]byte) *Set {
	var pats [][]byte
	for _, p := range patterns {
		if len(p) >= MinLen {
			pats = append(pats, p)
		}
	}
	return compilePatterns(pats)
}

// Len reports the number of distinct patterns.
func (s *Set) Len() int { return s.patterns }

type buildNode struct {
	bytes []byte
	to    []int32
	out   int32
}

// trie is the automaton under construction: a trie of the patterns.
type trie []buildNode

// child is n's child on b, or -1.
func (t trie) child(n int32, b byte) int32 {
	for i, c := range t[n].bytes {
		if c == b {
			return t[n].to[i]
		}
	}
	return -1
}

// compilePatterns builds an Aho-Corasick automaton of pats in three steps:
// the trie, the failure links (breadth-first), then the flat edge arrays
// with dense rows for the states with many edges.
func compilePatterns(pats [][]byte) *Set {
	s := &Set{}
	nodes := s.buildTrie(pats)
	s.link(nodes)
	s.flatten(nodes)
	return s
}

// buildTrie makes the trie of pats; each pattern's last state outputs its
// length. It counts the distinct patterns.
func (s *Set) buildTrie(pats [][]byte) trie {
	nodes := trie{{}}
	for _, p := range pats {
		cur := int32(0)
		for _, b := range p {
			next := nodes.child(cur, b)
			if next < 0 {
				next = int32(len(nodes))
				nodes = append(nodes, buildNode{})
				nodes[cur].bytes = append(nodes[cur].bytes, b)
				nodes[cur].to = append(nodes[cur].to, next)
			}
			cur = next
		}
		if nodes[cur].out == 0 {
			s.patterns++
		}
		nodes[cur].out = int32(len(p))
	}
	return nodes
}

// link sets every state's failure link, depth and output (the longest
// pattern ending there, its own or inherited). Breadth-first: a state's
// failure link and inherited output come from states closer to the root,
// which are final by then.
func (s *Set) link(nodes trie) {
	n := len(nodes)
	s.fail = make([]int32, n)
	s.depth = make([]int32, n)
	s.out = make([]int32, n)
	for i := range nodes {
		s.out[i] = nodes[i].out
	}
	queue := make([]int32, 0, n)
	for i, b := range nodes[0].bytes {
		t := nodes[0].to[i]
		s.root[b] = t
		s.depth[t] = 1
		queue = append(queue, t)
	}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		if s.out[s.fail[u]] > s.out[u] {
			// Only when u ends no pattern itself; a pattern ending at u is
			// longer than any ending at its failure state.
			s.out[u] = s.out[s.fail[u]]
		}
		for i, b := range nodes[u].bytes {
			v := nodes[u].to[i]
			s.depth[v] = s.depth[u] + 1
			f := s.fail[u]
			for {
				if f == 0 {
					s.fail[v] = s.root[b]
					break
				}
				if t := nodes.child(f, b); t >= 0 {
					s.fail[v] = t
					break
				}
				f = s.fail[f]
			}
			queue = append(queue, v)
		}
	}
}

// flatten lays the edges out in flat arrays, then adds dense rows for the
// states with at least denseMin edges, each resolved through the sparse
// function: s.step reads no dense row while they are built.
func (s *Set) flatten(nodes trie) {
	n := len(nodes)
	s.edgeStart = make([]int32, n+1)
	for i := range nodes {
		s.edgeStart[i+1] = s.edgeStart[i] + int32(len(nodes[i].bytes))
		s.edgeByte = append(s.edgeByte, nodes[i].bytes...)
		s.edgeTo = append(s.edgeTo, nodes[i].to...)
	}
	s.denseOf = make([]int32, n)
	var rows [][256]int32
	var owners []int32
	for i := 1; i < n; i++ {
		if len(nodes[i].bytes) >= denseMin {
			var row [256]int32
			for b := range 256 {
				row[b] = s.step(int32(i), byte(b))
			}
			rows = append(rows, row)
			owners = append(owners, int32(i))
		}
	}
	for k, st := range owners {
		s.denseOf[st] = int32(k + 1)
	}
	s.dense = rows
}

// step is the automaton's transition function.
func (s *Set) step(state int32, b byte) int32 {
	for state != 0 {
		if d := s.denseOf[state]; d > 0 {
			return s.dense[d-1][b]
		}
		lo, hi := s.edgeStart[state], s.edgeStart[state+1]
		for i := lo; i < hi; i++ {
			if s.edgeByte[i] == b {
				return s.edgeTo[i]
			}
		}
		state = s.fail[state]
	}
	return s.root[b]
}

// Mask returns b with every pattern replaced by [Redacted]. It is the
// one-shot form of a [Writer] for a complete buffer.
func (s *Set) Mask(b []byte) []byte {
	var out sliceWriter
	w := s.NewWriter(&out, 0)
	_, _ = w.Write(b)
	_ = w.Close()
	return out.b
}

type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}
