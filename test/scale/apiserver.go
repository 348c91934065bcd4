package scale

import (
	"context"
	"fmt"
	"strings"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
)

// requestCounts are the API server's own counts of the requests it served
// (apiserver_request_total), by verb and resource.
type requestCounts map[string]float64 // "VERB resource" → count

// writeVerbs are the verbs that change something.
var writeVerbs = map[string]bool{"POST": true, "PUT": true, "PATCH": true, "APPLY": true, "DELETE": true, "DELETECOLLECTION": true}

// readRequestCounts scrapes the API server's metrics.
func readRequestCounts(ctx context.Context, cfg *rest.Config) (requestCounts, error) {
	c, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	raw, err := c.RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to read the API server's metrics: %w", err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(raw)))
	if err != nil {
		return nil, err
	}
	counts := requestCounts{}
	for _, m := range families["apiserver_request_total"].GetMetric() {
		var verb, resource string
		for _, l := range m.GetLabel() {
			switch l.GetName() {
			case "verb":
				verb = l.GetValue()
			case "resource":
				resource = l.GetValue()
			}
		}
		counts[verb+" "+resource] += m.GetCounter().GetValue()
	}
	return counts, nil
}

// since is what was counted after before.
func (c requestCounts) since(before requestCounts) requestCounts {
	d := requestCounts{}
	for k, v := range c {
		if n := v - before[k]; n > 0 {
			d[k] = n
		}
	}
	return d
}

// writes counts the writes, leaving out Leases: leader election renews its
// Lease every few seconds whatever the operator does, as the API server renews
// its own.
func (c requestCounts) writes() float64 {
	var n float64
	for _, v := range c.writesByResource() {
		n += v
	}
	return n
}

// writesByResource are the counts of the writes alone, Leases left out.
func (c requestCounts) writesByResource() requestCounts {
	w := requestCounts{}
	for k, v := range c {
		verb, resource, _ := strings.Cut(k, " ")
		if writeVerbs[verb] && resource != "leases" {
			w[k] = v
		}
	}
	return w
}

// reads counts the GETs and LISTs, watches left out.
func (c requestCounts) reads() float64 {
	var n float64
	for k, v := range c {
		verb, resource, _ := strings.Cut(k, " ")
		if (verb == "GET" || verb == "LIST") && resource != "leases" {
			n += v
		}
	}
	return n
}

// String lists the counts, writes first, for a reader looking for where the
// requests go.
func (c requestCounts) String() string {
	var b strings.Builder
	for k, v := range c {
		verb, resource, _ := strings.Cut(k, " ")
		if resource != "leases" && verb != "WATCH" && resource != "" {
			fmt.Fprintf(&b, "  %-40s %8.0f\n", k, v)
		}
	}
	return b.String()
}
