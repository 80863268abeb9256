package alerting_test

import (
	"testing"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

// TestMain is the package's one TestMain (acceptance harness: Terraform 1.5.7 and its CLI config).
func TestMain(m *testing.M) { acctest.Main(m) }
