package remote

// Field names as the clients' configurations spell them.
const (
	FieldURL      = "url"
	FieldCABundle = "caBundle"
)

// FieldError is a setting that cannot work: Field names it, Reason says why
// without quoting its value.
type FieldError struct {
	Field  string
	Reason string
}

// Error reads like "url: host is missing".
func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }
