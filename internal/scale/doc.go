// Package scale holds the scale benchmark (BenchmarkScalePlatform500) and its short form for CI: a
// generated platform of 500 resources applied, planned and destroyed against one sandbox, next to the same
// number of resources of the floor provider (./floor), a framework provider whose Read does nothing.
package scale
