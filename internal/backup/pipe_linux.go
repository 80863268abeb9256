package backup

import (
	"os"

	"golang.org/x/sys/unix"
)

// dumpPipeBytes is the kernel buffer asked for pg_dump's stdout (Linux's default is 64 KiB): pg_dump keeps
// writing while the engine's goroutine waits for a core, instead of stalling the server's COPY.
const dumpPipeBytes = 1 << 20

func growPipe(f *os.File) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	// Best effort: an unprivileged process may be held under /proc/sys/fs/pipe-max-size (1 MiB by default).
	_ = rc.Control(func(fd uintptr) { _, _ = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, dumpPipeBytes) })
}
