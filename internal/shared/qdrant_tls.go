package shared

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
)

// TLSConfig is nil for plaintext; with TLS (or a CA certificate), the CA given (PEM) or the system roots.
// The provider's Qdrant client and the backup engine both use it.
func (c *QdrantConfig) TLSConfig() (*tls.Config, error) {
	if !c.TLS && c.CACert == "" {
		return nil, nil
	}
	t := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CACert != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(c.CACert)) {
			return nil, errors.New("qdrant ca_cert (ALFRED_QDRANT_CA_CERT) holds no PEM certificate")
		}
		t.RootCAs = pool
	}
	return t, nil
}
