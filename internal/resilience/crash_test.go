package resilience_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// progress matches the lines of Terraform's output that mark a step of an apply or a destroy.
var progress = regexp.MustCompile(`: (Creating|Creation complete|Modifying|Modifications complete|Destroying|Destruction complete|Reading|Read complete)`)

// killPoint is where a run is killed: after the afterLine-th progress line, and delay later.
type killPoint struct {
	afterLine int
	delay     time.Duration
}

func (k killPoint) String() string { return fmt.Sprintf("progress line %d + %v", k.afterLine, k.delay) }

// drawKillPoint draws a point uniformly among the progress lines of an uninterrupted run (lines), plus
// up to 300 ms, so that kills land before, between and inside the provider's calls.
func drawKillPoint(rng *rand.Rand, lines int) killPoint {
	return killPoint{afterLine: rng.IntN(lines + 1), delay: time.Duration(rng.Int64N(int64(300 * time.Millisecond)))}
}

// progressLines counts the progress lines of an output.
func progressLines(output string) int { return len(progress.FindAllStringIndex(output, -1)) }

// killed runs `terraform args...` and kills it with SIGKILL at the kill point, with its whole process
// group (the provider plugin too), as when a CI runner dies. It reports whether the kill came before the
// run ended.
func (p *platform) killed(tb testing.TB, at killPoint, args ...string) bool {
	tb.Helper()
	cmd := p.cli.Command(p.dir, withFlags(args)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	reached := make(chan struct{})
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stdout)
		lines := 0
		if at.afterLine == 0 {
			close(reached)
		}
		for sc.Scan() {
			if progress.MatchString(sc.Text()) {
				if lines++; lines == at.afterLine {
					close(reached)
				}
			}
		}
	}()
	killed := false
	select {
	case <-reached:
		time.Sleep(at.delay)
		killed = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) == nil // the group this test started
	case <-scanned:
	}
	<-scanned
	_ = cmd.Wait() // the run's own outcome does not matter: the next run must converge either way
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	return killed && ok && ws.Signaled() // the run may have ended during the delay
}

var (
	// What Terraform prints for a diagnostic tied to a resource: "  with ADDRESS,".
	diagAddress = regexp.MustCompile(`(?m)^\s+with (\S+),$`)
	// The import instruction of the provider's "already exists" errors, once the wrapped text is joined.
	importID = regexp.MustCompile("`terraform import \\S+ ([^`]+)`")
)

// importsFrom reads, in the output of a failed apply, the errors that tell the user to import an object
// and returns them as address -> import ID.
func importsFrom(output string) map[string]string {
	out := map[string]string{}
	for _, block := range strings.Split(output, "Error: ")[1:] {
		addr := diagAddress.FindStringSubmatch(block)
		id := importID.FindStringSubmatch(strings.Join(strings.Fields(block), " "))
		if addr != nil && id != nil {
			out[addr[1]] = strings.TrimSpace(id[1])
		}
	}
	return out
}

// recoverApply runs the apply a user runs after a crash. Where the provider refuses to adopt an object
// it cannot prove its own and says to import it, it follows that instruction (terraform import of the
// address and ID the error names) and applies again, as long as each round imports something new (an
// apply stops at the first errors, so later resources only show theirs in a later round). It returns
// what it imported.
func (p *platform) recoverApply(tb testing.TB) map[string]string {
	tb.Helper()
	imported := map[string]string{}
	for {
		code, out := p.terraform(tb, []int{0, 1}, "apply", "-auto-approve")
		if code == 0 {
			return imported
		}
		imports := importsFrom(out)
		fresh := 0
		for addr, id := range imports {
			if _, done := imported[addr]; done {
				continue
			}
			p.terraform(tb, []int{0}, "import", addr, id)
			imported[addr] = id
			fresh++
		}
		if fresh == 0 {
			tb.Fatalf("the apply after the crash failed, with no new import instruction to follow (imported so far: %v):\n%s", imported, out)
		}
	}
}

// restoreTruncatedState puts terraform.tfstate.backup back when the kill left terraform.tfstate empty or
// cut short: Terraform's local backend rewrites the state file in place (truncate, then write), so a
// SIGKILL in between loses it, and Terraform would then see no state at all. The backup is the state as
// the killed run found it; what that run created after is what the provider's import errors then name.
// It reports whether it restored.
func (p *platform) restoreTruncatedState(tb testing.TB) bool {
	tb.Helper()
	file := filepath.Join(p.dir, "terraform.tfstate")
	b, err := os.ReadFile(file)
	if os.IsNotExist(err) || (err == nil && json.Valid(b) && len(b) > 0) {
		return false
	}
	if err != nil {
		tb.Fatal(err)
	}
	backup, err := os.ReadFile(file + ".backup")
	if err != nil {
		tb.Fatalf("terraform.tfstate is cut short (%d bytes) and there is no backup: %v", len(b), err)
	}
	if err := os.WriteFile(file, backup, 0o644); err != nil {
		tb.Fatal(err)
	}
	return true
}

// TestPlatformConvergesAfterSIGKILL kills terraform (and the provider with it) with SIGKILL at a random
// point of an apply of examples/platform, then applies again: the apply must converge (adopting what the
// provider can prove it made, importing what an error names), plan empty, and leave in the sandbox exactly
// what a clean apply makes. Then the same with a destroy, which must leave what a clean destroy leaves.
// The kill point is drawn among the progress lines of an uninterrupted run (drawKillPoint). Short form:
// 2 seeds; ALFRED_CRASH_SEEDS=N runs N.
func TestPlatformConvergesAfterSIGKILL(t *testing.T) {
	t.Parallel() // a sandbox, a working directory and a provider binary of its own
	p := newPlatform(t)
	clean := p.clean(t)
	applyLines, destroyLines := progressLines(clean.applyOutput), progressLines(clean.destroyOutput)

	n := seeds(t, "ALFRED_CRASH_SEEDS", 2)
	for seed := uint64(1); seed <= uint64(n); seed++ {
		ok := t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 14))
			at := drawKillPoint(rng, applyLines)
			killed := p.killed(t, at, "apply", "-auto-approve")
			restored := p.restoreTruncatedState(t)
			inState := p.stateCount(t)
			imported := p.recoverApply(t)
			t.Logf("apply killed at %v of %d (killed: %v; state restored from its backup: %v): %d of %d resources in state; the next apply imported %v",
				at, applyLines, killed, restored, inState, clean.resources, imported)
			p.planEmpty(t, "after the apply that followed a killed apply")
			sameShape(t, fmt.Sprintf("after an apply killed at %v and the next apply", at), p.inventory(t), clean.applied)

			at = drawKillPoint(rng, destroyLines)
			killed = p.killed(t, at, "destroy", "-auto-approve")
			restored = p.restoreTruncatedState(t)
			inState = p.stateCount(t)
			p.destroy(t)
			t.Logf("destroy killed at %v of %d (killed: %v; state restored from its backup: %v): %d resources left in state",
				at, destroyLines, killed, restored, inState)
			sameShape(t, fmt.Sprintf("after a destroy killed at %v and the next destroy", at), p.inventory(t), clean.destroyed)
		})
		if !ok {
			return // the sandbox holds what the failed run left: later seeds would not start clean
		}
	}
}
