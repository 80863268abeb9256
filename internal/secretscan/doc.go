// Package secretscan holds the secret scan: a TF_LOG=TRACE apply and destroy against the sandbox of a
// configuration that holds every secret the provider handles, checking the log, the CLI output and the
// sensitive marks of state and plan.
package secretscan
