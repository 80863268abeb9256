package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/localproc"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/supervisor"
)

type sandboxFlags struct {
	dir         string
	latency     time.Duration
	faultRate   float64
	faultKinds  []string
	seed        uint64
	qdrantPeers int
	timeout     time.Duration
}

func newSandboxCmd() *cobra.Command {
	f := &sandboxFlags{}
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Local emulators of every control plane, with PostgreSQL and versitygw, on loopback",
	}
	cmd.PersistentFlags().StringVar(&f.dir, "dir", ".alfred/sandbox", "directory holding the sandbox's state, logs and sandbox.env")

	up := &cobra.Command{
		Use:   "up",
		Short: "Start the sandbox in the background and wait until it is ready",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return sandboxUp(cmd, f) },
	}
	serve := &cobra.Command{
		Use:    "serve",
		Short:  "Run the sandbox in the foreground (what `up` starts in the background)",
		Args:   cobra.NoArgs,
		Hidden: true,
		RunE:   func(cmd *cobra.Command, _ []string) error { return sandboxServe(cmd, f) },
	}
	for _, c := range []*cobra.Command{up, serve} {
		c.Flags().DurationVar(&f.latency, "latency", 0, "latency added to every emulated API call, e.g. 50ms")
		c.Flags().Float64Var(&f.faultRate, "fault-rate", 0, "fraction of emulated API calls that fail, 0..1, with every kind of fault mixed unless --fault-kinds")
		c.Flags().StringSliceVar(&f.faultKinds, "fault-kinds", nil, "kinds of fault drawn at --fault-rate: unavailable, lost_reply, conflict, rate_limit (default all)")
		c.Flags().Uint64Var(&f.seed, "seed", 1, "seed of the fault injection")
		c.Flags().IntVar(&f.qdrantPeers, "qdrant-peers", 3, "number of emulated Qdrant peers")
	}
	up.Flags().DurationVar(&f.timeout, "timeout", 60*time.Second, "how long to wait for the sandbox to be ready")

	down := &cobra.Command{
		Use:   "down",
		Short: "Stop the sandbox; its state stays under --dir",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return sandboxDown(cmd, f) },
	}
	env := &cobra.Command{
		Use:   "env",
		Short: "Print the sandbox's environment (shell KEY=value lines, as in sandbox.env)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, alive := runningPID(f.dir); !alive {
				return fmt.Errorf("the sandbox in %s is not running: start it with `alfredctl sandbox up --dir %s`", f.dir, f.dir)
			}
			b, err := os.ReadFile(filepath.Join(f.dir, supervisor.EnvFile))
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
	cmd.AddCommand(up, down, env, serve)
	return cmd
}

// runningPID reads the supervisor's pid file and reports whether that process is alive and is the
// supervisor of dir: after a reboot or a killed supervisor the pid file may name an unrelated process,
// which must be neither reported as the sandbox nor sent signals by `down`.
func runningPID(dir string) (int, bool) {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	b, err := os.ReadFile(filepath.Join(dir, supervisor.PIDFile))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, syscall.Kill(pid, 0) == nil && isSupervisorOf(pid, dir)
}

// isSupervisorOf reports whether process pid runs `sandbox serve` with --dir naming dir (an absolute path).
func isSupervisorOf(pid int, dir string) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return false
	}
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	if len(args) < 3 || !slices.Contains(args, "sandbox") || !slices.Contains(args, "serve") {
		return false
	}
	procDir := ".alfred/sandbox" // the flag's default
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--dir="); ok {
			procDir = v
		} else if a == "--dir" && i+1 < len(args) {
			procDir = args[i+1]
		}
	}
	if !filepath.IsAbs(procDir) {
		cwd, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "cwd"))
		if err != nil {
			return false
		}
		procDir = filepath.Join(cwd, procDir)
	}
	return filepath.Clean(procDir) == filepath.Clean(dir)
}

func findVersityGW() string {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// faultSettings checks the fault flags before anything starts.
func (f *sandboxFlags) faultSettings() (kit.FaultSettings, error) {
	fs := kit.FaultSettings{Rate: f.faultRate, Latency: f.latency, Seed: f.seed}
	for _, k := range f.faultKinds {
		fs.Kinds = append(fs.Kinds, kit.FaultKind(k))
	}
	if err := fs.Validate(); err != nil {
		return fs, fmt.Errorf("--fault-rate, --fault-kinds or --latency: %w", err)
	}
	return fs, nil
}

func sandboxUp(cmd *cobra.Command, f *sandboxFlags) error {
	out := cmd.OutOrStdout()
	if _, err := f.faultSettings(); err != nil {
		return err
	}
	dir, err := filepath.Abs(f.dir)
	if err != nil {
		return err
	}
	if pid, alive := runningPID(dir); alive {
		fmt.Fprintf(out, "sandbox already running (pid %d); environment in %s\n", pid, filepath.Join(dir, supervisor.EnvFile))
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	_ = os.Remove(filepath.Join(dir, supervisor.ReadyFile))
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if err := localproc.RotateLog(filepath.Join(dir, supervisor.LogFile), localproc.MaxLogBytes); err != nil {
		return err
	}
	logf, err := os.OpenFile(filepath.Join(dir, supervisor.LogFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	start := time.Now()
	child := exec.Command(exe, "sandbox", "serve", "--dir", dir,
		"--latency", f.latency.String(), "--fault-rate", strconv.FormatFloat(f.faultRate, 'g', -1, 64),
		"--seed", strconv.FormatUint(f.seed, 10), "--qdrant-peers", strconv.Itoa(f.qdrantPeers))
	if len(f.faultKinds) > 0 {
		child.Args = append(child.Args, "--fault-kinds", strings.Join(f.faultKinds, ","))
	}
	child.Stdout, child.Stderr = logf, logf
	child.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := child.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	deadline := time.After(f.timeout)
	for {
		if _, err := os.Stat(filepath.Join(dir, supervisor.ReadyFile)); err == nil {
			fmt.Fprintf(out, "sandbox ready in %.1fs (pid %d)\n", time.Since(start).Seconds(), child.Process.Pid)
			fmt.Fprintf(out, "environment: %s\n  set -a; . %s; set +a\n", filepath.Join(dir, supervisor.EnvFile), filepath.Join(dir, supervisor.EnvFile))
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("the sandbox exited during start-up (%v); its log:\n%s", err, tail(filepath.Join(dir, supervisor.LogFile), 30))
		case <-deadline:
			// The supervisor stops what it started; wait for that, so that a retry finds nothing running.
			_ = syscall.Kill(-child.Process.Pid, syscall.SIGTERM)
			select {
			case err := <-exited:
				_ = err // the supervisor reports its own errors in the log shown below
			case <-time.After(60 * time.Second):
				_ = syscall.Kill(-child.Process.Pid, syscall.SIGKILL)
			}
			return fmt.Errorf("the sandbox was not ready within %s; its log:\n%s", f.timeout, tail(filepath.Join(dir, supervisor.LogFile), 30))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func sandboxServe(cmd *cobra.Command, f *sandboxFlags) error {
	dir, err := filepath.Abs(f.dir)
	if err != nil {
		return err
	}
	if pid, alive := runningPID(dir); alive && pid != os.Getpid() {
		return fmt.Errorf("a sandbox is already running in %s (pid %d)", dir, pid)
	}
	exe, _ := os.Executable()
	logf := func(format string, args ...any) {
		fmt.Fprintf(cmd.ErrOrStderr(), time.Now().Format(time.RFC3339)+" "+format+"\n", args...)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := os.WriteFile(filepath.Join(dir, supervisor.PIDFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return err
	}
	defer os.Remove(filepath.Join(dir, supervisor.PIDFile))
	defer os.Remove(filepath.Join(dir, supervisor.ReadyFile))
	start := time.Now()
	faults, err := f.faultSettings()
	if err != nil {
		return err
	}
	sb, err := supervisor.Start(ctx, supervisor.Config{
		Dir: dir, Latency: f.latency, FaultRate: f.faultRate, FaultKinds: faults.Kinds, Seed: f.seed, QdrantPeers: f.qdrantPeers,
		AlfredctlPath: exe, VersityGWPath: findVersityGW(), Logf: logf,
	})
	if err != nil {
		return err
	}
	defer sb.Stop()
	if ctx.Err() != nil { // stopped while starting: never report ready
		logf("start-up interrupted; stopping")
		return nil
	}
	if err := os.WriteFile(filepath.Join(dir, supervisor.ReadyFile), []byte(time.Now().Format(time.RFC3339)), 0o644); err != nil {
		return err
	}
	logf("sandbox ready in %s", time.Since(start).Round(time.Millisecond))
	<-ctx.Done()
	logf("stopping")
	return nil
}

func sandboxDown(cmd *cobra.Command, f *sandboxFlags) error {
	pid, alive := runningPID(f.dir)
	if !alive {
		// The supervisor may have been killed without stopping PostgreSQL (versitygw dies with it).
		stopped, err := localproc.StopLeftover(filepath.Join(f.dir, "postgres"))
		if err != nil {
			return fmt.Errorf("the sandbox is not running, but stopping its leftover PostgreSQL failed: %w", err)
		}
		if stopped {
			fmt.Fprintln(cmd.OutOrStdout(), "sandbox was not running; stopped the PostgreSQL server it left behind")
			return nil
		}
		fmt.Fprintln(cmd.OutOrStdout(), "sandbox is not running")
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	deadline := time.Now().Add(60 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			return fmt.Errorf("the sandbox (pid %d) did not stop within 60s and was killed", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Fprintln(cmd.OutOrStdout(), "sandbox stopped; state kept in", f.dir)
	return nil
}
