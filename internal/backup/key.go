package backup

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/streamingaead"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// KeyEnv names the environment variable that may hold the Tink keyset (JSON) instead of a file.
const KeyEnv = "ALFRED_BACKUP_KEYSET"

// ErrWrongKey is returned when an object cannot be decrypted with the configured keyset.
var ErrWrongKey = errors.New("the backup cannot be decrypted with this key: check --keyset-file / " + KeyEnv +
	" names the keyset the backup was made with")

// NewKeyset returns a fresh cleartext JSON keyset holding one AES256_GCM_HKDF_1MB streaming AEAD key.
func NewKeyset() ([]byte, error) {
	h, err := keyset.NewHandle(streamingaead.AES256GCMHKDF1MBKeyTemplate())
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := insecurecleartextkeyset.Write(h, keyset.NewJSONWriter(&buf)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// LoadKey reads the keyset from file path, or from the environment variable KeyEnv when path is empty.
// Error messages never include the keyset's content.
func LoadKey(path string) (tink.StreamingAEAD, error) {
	var r io.Reader
	src := "environment variable " + KeyEnv
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading the backup keyset file: %w (create one with `alfredctl backup keygen`)", err)
		}
		r, src = bytes.NewReader(b), "keyset file "+path
	} else {
		v := os.Getenv(KeyEnv)
		if strings.TrimSpace(v) == "" {
			return nil, fmt.Errorf("no backup key: pass --keyset-file or set %s to a Tink keyset (JSON; `alfredctl backup keygen` makes one)", KeyEnv)
		}
		r = strings.NewReader(v)
	}
	return parseKey(r, src)
}

func parseKey(r io.Reader, src string) (tink.StreamingAEAD, error) {
	h, err := insecurecleartextkeyset.Read(keyset.NewJSONReader(r))
	if err != nil {
		return nil, fmt.Errorf("the %s does not hold a valid Tink keyset (JSON)", src)
	}
	a, err := streamingaead.New(h)
	if err != nil {
		return nil, fmt.Errorf("the %s holds no streaming AEAD key (use AES256_GCM_HKDF_1MB)", src)
	}
	return a, nil
}
