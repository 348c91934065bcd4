package metrics

import (
	"strconv"
	"time"
)

// Remote systems, the system label's values.
const (
	SystemAWX        = "awx"
	SystemDeviceHive = "devicehive"
)

// RemoteRequest records one request to a remote system: its operation, the HTTP
// status of its reply (0: no reply came) and how long it took.
func RemoteRequest(system, operation string, status int, took time.Duration) {
	code := "error"
	if status > 0 {
		code = strconv.Itoa(status)
	}
	remoteRequests.WithLabelValues(system, operation, code).Inc()
	remoteDuration.WithLabelValues(system, operation).Observe(took.Seconds())
}
