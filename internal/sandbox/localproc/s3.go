package localproc

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// S3Server is a versitygw gateway over a POSIX directory, listening on loopback.
type S3Server struct {
	Endpoint        string
	AccessKeyID     string
	SecretAccessKey string
	Region          string
	Dir             string
	cmd             *exec.Cmd
}

// StartS3 starts the versitygw binary bin with its data under dir, on port (0: any free port), with the
// given root credentials (empty: test defaults).
func StartS3(bin, dir string, port int, accessKey, secretKey string) (*S3Server, error) {
	var err error
	if port == 0 {
		if port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	if accessKey == "" {
		accessKey, secretKey = "alfredtest", "alfredtest-secret-key"
	}
	s := &S3Server{
		Endpoint: "http://127.0.0.1:" + strconv.Itoa(port), AccessKeyID: accessKey,
		SecretAccessKey: secretKey, Region: "us-east-1", Dir: dir,
	}
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "versitygw.log"))
	if err != nil {
		return nil, err
	}
	s.cmd = exec.Command(bin, "--access", s.AccessKeyID, "--secret", s.SecretAccessKey,
		"--region", s.Region, "--port", "127.0.0.1:"+strconv.Itoa(port), "posix", data)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return s, nil
		}
		if time.Now().After(deadline) {
			s.Stop()
			log, _ := os.ReadFile(filepath.Join(dir, "versitygw.log"))
			return nil, fmt.Errorf("versitygw did not listen within 20s:\n%s", log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends the gateway.
func (s *S3Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
		_ = s.cmd.Wait()
	}
}
