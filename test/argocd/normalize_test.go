package argocd

import (
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Values that differ from one run to the next, alone or in a message, and what
// fixtures show instead: times, uids, and the random or content-derived hex of
// markers and Secret versions.
var unstable = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})`), "2025-01-01T00:00:00Z"},
	{regexp.MustCompile(`\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`), "00000000-0000-0000-0000-000000000000"},
	{regexp.MustCompile(`\b[0-9a-f]{16}\b`), "0000000000000000"},
}

// normalize is the state's object as a fixture shows it: without what changes
// from one run to the next (ids, versions, times, the test servers' ports), so
// that -update rewrites a fixture only when the state itself changed.
func normalize(s state) *unstructured.Unstructured {
	obj := s.obj.DeepCopy()
	for _, field := range []string{"managedFields", "uid", "resourceVersion", "creationTimestamp"} {
		unstructured.RemoveNestedField(obj.Object, "metadata", field)
	}
	obj.Object = normalizeValue("", obj.Object, s.hosts).(map[string]any)
	return obj
}

// normalizeValue normalizes v, the value of key.
func normalizeValue(key string, v any, hosts map[string]string) any {
	switch v := v.(type) {
	case map[string]any:
		for k, item := range v {
			v[k] = normalizeValue(k, item, hosts)
		}
	case []any:
		for i, item := range v {
			v[i] = normalizeValue(key, item, hosts)
		}
	case string:
		switch key {
		case "message":
			return normalizeMessage(v, hosts)
		case "signingKeyVersion":
			// The resourceVersion of a Secret.
			return "1"
		}
		return normalizeString(v, hosts)
	}
	return v
}

// secondsLeft is a wait a message counts down.
var secondsLeft = regexp.MustCompile(`\b\d+s\b`)

// normalizeMessage normalizes a condition's message.
func normalizeMessage(s string, hosts map[string]string) string {
	return secondsLeft.ReplaceAllString(normalizeString(s, hosts), "60s")
}

// normalizeString puts the stable URLs in place of the test servers' and stable
// values in place of the unstable ones.
func normalizeString(s string, hosts map[string]string) string {
	for from, to := range hosts {
		s = strings.ReplaceAll(s, from, to)
	}
	for _, u := range unstable {
		s = u.re.ReplaceAllString(s, u.with)
	}
	return s
}
