package resilience_test

import (
	"fmt"
	"testing"
)

// faultRates are the rates of issue 14, every kind of fault mixed at each.
var faultRates = []float64{0.1, 0.3}

// faultRun applies the platform with faults at rate (every kind mixed), plans under the same faults, and
// destroys under them; after the apply the sandbox must hold what a clean apply made, after the destroy
// what it held before. It returns the calls and faults of the apply.
func faultRun(tb testing.TB, p *platform, rate float64, seed uint64, clean cleanRun) (calls int64, injected map[string]int64) {
	tb.Helper()
	p.faults(tb, rate, seed)
	p.apply(tb)
	calls, injected = p.counts(tb)
	p.planEmpty(tb, fmt.Sprintf("after an apply at fault rate %v, under the same faults", rate))
	p.faults(tb, 0, 0)
	sameShape(tb, fmt.Sprintf("after an apply at fault rate %v (seed %d)", rate, seed), p.inventory(tb), clean.applied)

	p.faults(tb, rate, seed+1000)
	p.destroy(tb)
	p.faults(tb, 0, 0)
	sameShape(tb, fmt.Sprintf("after a destroy at fault rate %v (seed %d)", rate, seed+1000), p.inventory(tb), clean.destroyed)
	return calls, injected
}

// TestPlatformConvergesUnderFaults applies and destroys examples/platform with the sandbox failing 10% and
// 30% of the calls with every kind of fault (refused, applied with the reply lost, concurrent edit, rate
// limit): no error, an empty second plan, and exactly the objects a clean apply makes, no duplicate, no
// orphan; the destroy leaves what was there before. Short form: one seed per rate; ALFRED_FAULT_SEEDS=N
// runs N.
func TestPlatformConvergesUnderFaults(t *testing.T) {
	t.Parallel() // a sandbox, a working directory and a provider binary of its own
	p := newPlatform(t)
	clean := p.clean(t)
	n := seeds(t, "ALFRED_FAULT_SEEDS", 1)
	for _, rate := range faultRates {
		for seed := uint64(1); seed <= uint64(n); seed++ {
			ok := t.Run(fmt.Sprintf("rate=%v/seed=%d", rate, seed), func(t *testing.T) {
				calls, injected := faultRun(t, p, rate, seed, clean)
				t.Logf("apply at fault rate %v, seed %d: %d calls (a clean apply makes %d), %s: each failed one call the provider recovered from",
					rate, seed, calls, clean.calls, describeInjected(injected))
			})
			if !ok {
				return // the sandbox holds what the failed run left: later runs would not start clean
			}
		}
	}
}

// BenchmarkFaultRun reports, for an apply of examples/platform at each fault rate, the faults injected
// (each a failed call the provider retried or checked) and the calls made beyond those of a clean apply.
func BenchmarkFaultRun(b *testing.B) {
	p := newPlatform(b)
	clean := p.clean(b)
	for _, rate := range faultRates {
		b.Run(fmt.Sprintf("rate=%v", rate), func(b *testing.B) {
			var calls, faults int64
			for i := 0; i < b.N; i++ {
				c, injected := faultRun(b, p, rate, uint64(i+1), clean)
				calls += c
				for _, n := range injected {
					faults += n
				}
			}
			b.ReportMetric(float64(faults)/float64(b.N), "faults/apply")
			b.ReportMetric(float64(calls-clean.calls*int64(b.N))/float64(b.N), "extra-calls/apply")
			b.ReportMetric(float64(clean.calls), "clean-calls/apply")
		})
	}
}
