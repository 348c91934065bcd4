package kubectltoken

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// eventReport is one event about a token.
type eventReport struct {
	LastSeen time.Time `json:"lastSeen"`
	Type     string    `json:"type"`
	Reason   string    `json:"reason"`
	Message  string    `json:"message"`
}

// tokenEvents reads the events about the tokens of each kind in namespace ("" for
// all), newest first, by the token's UID: two lists in all, however many tokens.
func tokenEvents(ctx context.Context, c client.Client, namespace string) (map[types.UID][]eventReport, error) {
	out := map[types.UID][]eventReport{}
	for _, k := range tokenKinds {
		var list eventsv1.EventList
		if err := c.List(ctx, &list, client.InNamespace(namespace),
			client.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("regarding.kind", k.name)}); err != nil {
			return nil, fmt.Errorf("cannot list the events of %ss: %w", k.name, err)
		}
		for _, ev := range list.Items {
			out[ev.Regarding.UID] = append(out[ev.Regarding.UID], eventReport{LastSeen: lastSeen(ev), Type: ev.Type, Reason: ev.Reason, Message: ev.Note})
		}
	}
	for _, evs := range out {
		slices.SortStableFunc(evs, func(a, b eventReport) int { return b.LastSeen.Compare(a.LastSeen) })
	}
	return out, nil
}

// lastSeen is when an event last happened, whichever API wrote it.
func lastSeen(ev eventsv1.Event) time.Time {
	if ev.Series != nil {
		return ev.Series.LastObservedTime.Time
	}
	return cmp.Or(ev.EventTime.Time, ev.DeprecatedLastTimestamp.Time, ev.CreationTimestamp.Time)
}
