// Package resilience holds the fault and crash runs of issue 14: examples/platform applied with the
// Terraform CLI and the provider binary against a sandbox that injects every kind of fault (fault_test.go),
// and with Terraform killed by SIGKILL at random points of apply and destroy (crash_test.go). After each
// run the next apply and destroy must converge, with no duplicate and no orphan in any emulator, in the
// database or in the bucket (internal/acctest/inventory).
//
// In `make test` both run their short form. ALFRED_FAULT_SEEDS=N and ALFRED_CRASH_SEEDS=N (or
// `make resilience`, which sets both to 10) run the full form; BenchmarkFaultRun measures the retries.
package resilience
