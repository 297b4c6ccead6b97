// Package mask hides secret values in a stream of output: every occurrence
// of a value, and of its common encodings, is replaced by [Redacted]
// ("****") before the bytes reach the underlying writer.
//
// # What is masked
//
// [Compile] expands each value into patterns:
//
//   - the value itself, and each line of a multi-line value;
//   - standard and URL-safe base64, at every alignment (the value may start
//     at any byte offset of a larger encoded blob, so the characters that
//     depend only on the value are matched at offsets 0, 1 and 2);
//   - URL encoding (query and path forms);
//   - JSON string escaping (with and without HTML escaping, and with
//     non-ASCII as \uXXXX);
//   - shell quoting: inside single quotes with each quote closed, escaped
//     and reopened (as bash's set -x writes it, or the '"'"' idiom),
//     printf %q backslash escapes and $'...' forms, double-quote escapes.
//
// Values (and encodings) shorter than [MinLen] bytes are not masked: masking
// "1" would destroy every line of output and protect nothing.
//
// # Streaming
//
// A [Writer] runs one Aho–Corasick automaton over the stream, so a value
// split across any number of writes is still found. It passes bytes on as
// soon as they cannot be the start of a value, which keeps latency near zero
// and the order of lines intact; only a tail that could still grow into a
// value is held back, and it is released by the next write, by [Writer.Flush]
// (called by an idle timer when one is configured) or by [Writer.Close].
// When a held tail is released before it completes, the automaton keeps its
// place, so the rest of the value is still masked if it arrives later.
//
// # What it cannot do
//
// Masking is best effort. A program that means to leak a value can always
// transform it in a way no list of encodings covers (reverse it, split it
// across lines, hash it, write it to a file). The masker guards against
// accidents; against intent, rely on the credential expiring.
package mask
