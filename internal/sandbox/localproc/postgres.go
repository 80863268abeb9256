// Package localproc starts the real local components the sandbox and the tests run: a throwaway
// PostgreSQL cluster (initdb + pg_ctl) and versitygw as the S3 store, and builds the Go tools they need.
package localproc

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/jackc/pgx/v5"
)

// PostgresCluster is a throwaway PostgreSQL cluster: initdb + pg_ctl in a temporary directory, listening
// on a free loopback port, stopped by Stop.
type PostgresCluster struct {
	BinDir  string
	DataDir string
	Port    int
	User    string // superuser name
	cred    *syscall.Credential
	dbSeq   atomic.Int64
}

// FindPostgresBin returns the directory holding initdb, pg_ctl and postgres. When none is found and the
// process runs as root, it installs Debian's postgresql package with apt-get.
func FindPostgresBin() (string, error) {
	if dir := findPostgresBin(); dir != "" {
		return dir, nil
	}
	if os.Geteuid() != 0 {
		return "", fmt.Errorf("PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found. " +
			"Install them, e.g. `sudo apt-get install -y postgresql`, or put their directory on PATH")
	}
	// Test binaries of several packages run at once: one installs, the others wait and find it.
	err := withFileLock(os.TempDir(), "alfred-apt", func() error {
		if findPostgresBin() != "" {
			return nil
		}
		fmt.Fprintln(os.Stderr, "localproc: installing Debian's postgresql package")
		// The lock timeout waits for an apt or unattended-upgrades run already going on a fresh machine.
		for _, args := range [][]string{{"update"}, {"install", "-y", "--no-install-recommends", "postgresql"}} {
			cmd := exec.Command("apt-get", append([]string{"-o", "DPkg::Lock::Timeout=600"}, args...)...)
			cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("apt-get %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if dir := findPostgresBin(); dir != "" {
		return dir, nil
	}
	return "", fmt.Errorf("postgresql was installed but initdb is still not found")
}

func findPostgresBin() string {
	if dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin"); len(dirs) > 0 {
		sort.Slice(dirs, func(i, j int) bool { return pgMajor(dirs[i]) > pgMajor(dirs[j]) })
		for _, d := range dirs {
			if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
				return d
			}
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Dir(real)
		}
		return filepath.Dir(p)
	}
	return ""
}

func pgMajor(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// FreePort returns a free TCP port on 127.0.0.1.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// StartPostgres creates (when new) and starts a cluster under dir, on port (0: any free port). PostgreSQL
// refuses to run as root, so as root the cluster runs as the `postgres` system user that Debian's package
// creates.
func StartPostgres(dir string, port int) (*PostgresCluster, error) {
	return StartPostgresWith(dir, port, "")
}

// StartPostgresWith is StartPostgres with extra server options (`-c name=value ...`) appended to the
// project's own, e.g. shared_preload_libraries for an extension that needs it.
func StartPostgresWith(dir string, port int, extraOpts string) (*PostgresCluster, error) {
	bin, err := FindPostgresBin()
	if err != nil {
		return nil, err
	}
	c, err := cluster(bin, dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if c.cred != nil {
		if err := os.Chown(dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return nil, err
		}
		changed, err := makeTraversable(filepath.Dir(dir))
		if err != nil {
			return nil, err
		}
		for _, d := range changed {
			fmt.Fprintf(os.Stderr, "localproc: added the search permission for others (o+x) to %s so that the postgres user can reach %s\n", d, dir)
		}
	}
	if _, err := os.Stat(filepath.Join(c.DataDir, "PG_VERSION")); err != nil {
		if out, err := c.run("initdb", "-D", c.DataDir, "-U", c.User, "--auth=trust", "-E", "UTF8",
			"--locale=C.UTF-8", "--no-sync"); err != nil {
			return nil, fmt.Errorf("initdb: %v\n%s", err, out)
		}
	}
	if c.Port = port; c.Port == 0 {
		if c.Port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	// A server left running on this data directory (its supervisor was killed) is stopped first, so that
	// the cluster comes up on the port asked for and nothing is left behind.
	if c.running() {
		if err := c.Stop(); err != nil {
			return nil, fmt.Errorf("stopping a server left running on %s: %w", c.DataDir, err)
		}
	}
	// TCP only: a Unix socket under dir fails the start when its path passes 107 bytes (a deep checkout).
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories='' "+
		"-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 "+
		"-c shared_buffers=128MB -c max_locks_per_transaction=256", c.Port)
	if extraOpts != "" {
		opts += " " + extraOpts
	}
	logPath := filepath.Join(dir, "postgres.log")
	if err := RotateLog(logPath, MaxLogBytes); err != nil {
		return nil, err
	}
	if out, err := c.run("pg_ctl", "-D", c.DataDir, "-l", logPath, "-o", opts, "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(logPath)
		return nil, fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	return c, nil
}

// MaxLogBytes is the size past which a log file is rotated when its component starts.
const MaxLogBytes = 10 << 20

// RotateLog renames path to path.1 (replacing an older one) when it is larger than max bytes, so that a
// log appended to by every start of a long-lived sandbox stays bounded at about twice max.
func RotateLog(path string, max int64) error {
	fi, err := os.Stat(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil || fi.Size() <= max {
		return err
	}
	return os.Rename(path, path+".1")
}

// makeTraversable adds the execute (search) bit for others to dir and its ancestors where it is missing,
// so that the unprivileged postgres user can reach a data directory below a root-only directory such as
// /root or a test's temporary directory, and returns the directories it changed. It never adds read or
// write bits: others can then open a path they already know below those directories, not list them.
func makeTraversable(dir string) ([]string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	var changed []string
	for d := abs; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return changed, err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			// Keep setgid/sticky bits: Chmod with the permission bits alone would clear them.
			if err := os.Chmod(d, fi.Mode()&(os.ModePerm|os.ModeSetgid|os.ModeSetuid|os.ModeSticky)|0o001); err != nil {
				return changed, fmt.Errorf("letting the postgres user reach %s: %w", abs, err)
			}
			changed = append(changed, d)
		}
		if d == filepath.Dir(d) {
			return changed, nil
		}
	}
}

// cluster describes the cluster under dir, run by the `postgres` user when this process is root.
func cluster(bin, dir string) (*PostgresCluster, error) {
	c := &PostgresCluster{BinDir: bin, DataDir: filepath.Join(dir, "data"), User: "postgres"}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("PostgreSQL refuses to run as root and runs as the unprivileged `postgres` user, "+
				"which does not exist (%v): install Debian's postgresql package, which creates it, create it with "+
				"`adduser --system --group postgres`, or run as a non-root user", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	return c, nil
}

// StopLeftover stops a server still running on the cluster under dir (its owner died without stopping
// it) and reports whether there was one.
func StopLeftover(dir string) (bool, error) {
	if _, err := os.Stat(filepath.Join(dir, "data", "postmaster.pid")); os.IsNotExist(err) {
		return false, nil
	}
	bin, err := FindPostgresBin()
	if err != nil {
		return false, err
	}
	c, err := cluster(bin, dir)
	if err != nil {
		return false, err
	}
	if !c.running() {
		return false, nil
	}
	return true, c.Stop()
}

// running reports whether a server runs on the data directory (`pg_ctl status` exits 0).
func (c *PostgresCluster) running() bool {
	_, err := c.run("pg_ctl", "-D", c.DataDir, "status")
	return err == nil
}

func (c *PostgresCluster) run(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(c.BinDir, name), args...)
	cmd.Dir = filepath.Dir(c.DataDir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred, Setpgid: true}
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	return cmd.CombinedOutput()
}

// Stop shuts the cluster down (fast mode).
func (c *PostgresCluster) Stop() error {
	out, err := c.run("pg_ctl", "-D", c.DataDir, "-m", "fast", "-w", "-t", "60", "stop")
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	return nil
}

// DSN returns a connection URL for database db as the superuser.
func (c *PostgresCluster) DSN(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", c.User, c.Port, db)
}

// CreateDatabase creates a fresh database with a unique name and returns its DSN, so tests that run in
// parallel never share a database.
func (c *PostgresCluster) CreateDatabase(ctx context.Context, prefix string) (string, error) {
	name := fmt.Sprintf("%s_%d_%d", strings.ToLower(prefix), os.Getpid(), c.dbSeq.Add(1))
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", err
	}
	return c.DSN(name), nil
}
