// Package analysis answers questions about profiles without loading them:
// which entry decides a call (Evaluate, the reference semantics the
// compiler is tested against), whether a call is allowed for all, some or
// no arguments (Classify), how two profiles differ (Diff, Within), and what
// a profile risks (Audit: findings from the catalogue in
// data/dangerous.json, bypasses and mistakes, with a per-arch summary).
package analysis
