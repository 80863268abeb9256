//go:build !linux

package backup

import "os"

const dumpPipeBytes = 1 << 20

func growPipe(*os.File) {}
