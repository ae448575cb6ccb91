// Package e2e holds sysfence's end-to-end acceptance tests: real servers in
// real Docker containers, recorded with `sysfence record --docker`, run
// again under the generated profile with the same load. It has no code
// outside its tests.
package e2e
