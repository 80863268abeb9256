package rbac

import "github.com/alfred-platform/terraform-provider-alfred/internal/shared/pgredact"

// Passwords are masked by the code every area that connects to PostgreSQL shares (internal/shared/pgredact).
const mask = pgredact.Mask

func rememberSecret(s string)       { pgredact.RememberPassword(s) }
func rememberSecrets(dsn string)    { pgredact.Remember(dsn) }
func redact(msg string) string      { return pgredact.Redact(msg) }
func redactErr(err error) string    { return pgredact.RedactErr(err) }
func parseProblem(err error) string { return pgredact.ParseProblem(err) }
