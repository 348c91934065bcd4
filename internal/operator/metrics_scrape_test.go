package operator

import (
	"crypto/tls"
	"io"
	"maps"
	"net/http"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// scraper GETs https://addr/metrics with a bearer token (none when empty),
// trusting the operator's self-signed certificate.
func scraper(addr string) func(bearer string) (code int, body []byte, err error) {
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // the operator's certificate is self-signed
	return func(bearer string) (int, []byte, error) {
		req, err := http.NewRequest(http.MethodGet, "https://"+addr+"/metrics", nil)
		if err != nil {
			return 0, nil, err
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, body, err
	}
}

// series are the metrics of family name whose labels include labels.
func series(mf map[string]*dto.MetricFamily, name string, labels map[string]string) []*dto.Metric {
	var found []*dto.Metric
	for _, m := range mf[name].GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		matches := true
		for k, v := range labels {
			matches = matches && have[k] == v
		}
		if matches {
			found = append(found, m)
		}
	}
	return found
}

// value is the value of the one gauge or counter of family name with exactly
// labels; -1 when there is none or more than one.
func value(mf map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	found := series(mf, name, labels)
	if len(found) != 1 || len(found[0].GetLabel()) != len(labels) {
		return -1
	}
	if c := found[0].GetCounter(); c != nil {
		return c.GetValue()
	}
	return found[0].GetGauge().GetValue()
}

// histogramCount is the sample count of the one histogram of family name with
// exactly labels; 0 when there is none.
func histogramCount(mf map[string]*dto.MetricFamily, name string, labels map[string]string) uint64 {
	found := series(mf, name, labels)
	if len(found) != 1 || len(found[0].GetLabel()) != len(labels) {
		return 0
	}
	return found[0].GetHistogram().GetSampleCount()
}

// with is labels and one more.
func with(labels map[string]string, name, value string) map[string]string {
	l := maps.Clone(labels)
	l[name] = value
	return l
}
