// Package analysis answers questions about profiles without loading them:
// which entry decides a call (Evaluate, the reference semantics the
// compiler is tested against), and, in later work, audit findings and
// semantic diffs.
package analysis
