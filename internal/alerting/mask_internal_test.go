package alerting

import "testing"

// A masked value read back keeps the configured secret while its clear tail matches it, and exposes a
// secret changed outside Terraform when it does not.
func TestMaskMatches(t *testing.T) {
	for _, tc := range []struct {
		masked, secret string
		want           bool
	}{
		{"************9684", "s3cret-pass-9684", true},
		{"***********************************************************************9684", "xoxb-9684", true}, // length not relied on
		{"************0000", "s3cret-pass-9684", false},
		{"****", "abcd", true},               // nothing in clear: cannot tell, keep the configured value
		{"plain-value", "plain-value", true}, // not masked at all
		{"plain-value", "other", false},
	} {
		if got := maskMatches(tc.masked, tc.secret); got != tc.want {
			t.Errorf("maskMatches(%q, %q) = %v, want %v", tc.masked, tc.secret, got, tc.want)
		}
	}
}
