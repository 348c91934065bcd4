// Package remote holds what the clients of the remote token services
// (internal/awx, internal/devicehive) share about reaching a server: the
// checks on a base URL and the TLS transport. Its errors are *FieldError,
// which each client turns into its own ConfigError; they never quote the URL,
// which may hold a password.
package remote
