package localproc

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
)

// StartStandby starts a streaming standby of c under dir: pg_basebackup -R (which writes standby.signal
// and primary_conninfo) with a physical replication slot named slot, then a second server on a free
// loopback port, run by the same OS user as the primary. name becomes the standby's cluster_name, which
// its WAL receiver reports as application_name in the primary's pg_stat_replication.
//
// The primary must accept replication connections: wal_level replica (PostgreSQL's default since 10),
// max_wal_senders > 0 (default 10) and a pg_hba.conf `host replication` line for 127.0.0.1 (initdb writes
// one, with the cluster's --auth=trust).
func (c *PostgresCluster) StartStandby(dir, slot, name string) (*PostgresCluster, error) {
	if err := c.checkReplicationReady(); err != nil {
		return nil, err
	}
	s := &PostgresCluster{BinDir: c.BinDir, DataDir: filepath.Join(dir, "data"), User: c.User, cred: c.cred}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if s.cred != nil {
		if err := os.Chown(dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			return nil, err
		}
		if _, err := makeTraversable(filepath.Dir(dir)); err != nil {
			return nil, err
		}
	}
	if out, err := s.run("pg_basebackup", "-h", "127.0.0.1", "-p", fmt.Sprint(c.Port), "-U", c.User,
		"-D", s.DataDir, "-R", "-X", "stream", "-C", "-S", slot, "-c", "fast", "--no-sync"); err != nil {
		return nil, fmt.Errorf("pg_basebackup: %v\n%s", err, out)
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	s.Port = port
	// wal_receiver_status_interval=1: the standby reports its positions every second, so the primary's
	// lag figures move at that pace rather than every 10 s.
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories='' "+
		"-c fsync=off -c hot_standby=on -c cluster_name=%s -c wal_receiver_status_interval=1 "+
		"-c max_connections=300 -c max_locks_per_transaction=256", port, name)
	logPath := filepath.Join(dir, "postgres.log")
	if out, err := s.run("pg_ctl", "-D", s.DataDir, "-l", logPath, "-o", opts, "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(logPath)
		return nil, fmt.Errorf("pg_ctl start (standby): %v\n%s\n%s", err, out, log)
	}
	return s, nil
}

// checkReplicationReady says what is missing when the primary cannot serve a streaming standby.
func (c *PostgresCluster) checkReplicationReady() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var level string
	var senders int
	if err := conn.QueryRow(ctx, `select current_setting('wal_level'), current_setting('max_wal_senders')::int`).
		Scan(&level, &senders); err != nil {
		return err
	}
	if level == "minimal" || senders == 0 {
		return fmt.Errorf("the primary cannot serve a streaming standby: wal_level = %s, max_wal_senders = %d "+
			"(need wal_level replica or logical and max_wal_senders > 0)", level, senders)
	}
	return nil
}
