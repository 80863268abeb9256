package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// sealAndUpload streams src through zstd and the streaming AEAD (bound to the set, kind and name) into a
// multipart upload of obj.Key, and records the stored size and sha256 and the plain byte count in obj.
// Memory stays bounded: nothing is staged but the upload's parts. It is the one upload pipeline of every
// object (a pg_dump stream, a Qdrant shard snapshot). src is read in 1 MiB reads (io.Copy's are 32 KiB:
// fewer wake-ups for a pipe); an error src returns (e.g. pg_dump's exit status at EOF) fails the upload.
func (e *Engine) sealAndUpload(ctx context.Context, setID string, obj *Object, src io.Reader, label string) error {
	pr, pw := io.Pipe()
	prog := e.progress()
	prog.Start(label, -1)
	defer prog.Done()
	var wg sync.WaitGroup
	var plain int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		err := func() error {
			enc, err := e.Key.NewEncryptingWriter(pw, aad(setID, obj.Kind, obj.Name))
			if err != nil {
				return err
			}
			zw, err := zstd.NewWriter(enc, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(4<<20))
			if err != nil {
				return err
			}
			cw := &countingWriter{w: zw, p: prog}
			// The struct hides a WriteTo of src (os.File's), which would ignore the buffer.
			if _, err := io.CopyBuffer(cw, struct{ io.Reader }{src}, make([]byte, dumpPipeBytes)); err != nil {
				return err
			}
			plain = cw.n
			if err := zw.Close(); err != nil {
				return err
			}
			return enc.Close()
		}()
		pw.CloseWithError(err)
	}()
	hr := &hashingReader{r: pr, h: sha256.New()}
	err := e.Store.upload(ctx, obj.Key, hr)
	if err != nil {
		pr.CloseWithError(err)
	}
	wg.Wait()
	if err != nil {
		return err
	}
	obj.Size, obj.SHA256, obj.PlainBytes = hr.n, hex.EncodeToString(hr.h.Sum(nil)), plain
	return nil
}
