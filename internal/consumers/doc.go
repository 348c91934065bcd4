// Package consumers tells how a pod spec reads a Secret, and whether a workload
// has finished rolling out: the facts the operator needs to restart the
// consumers of a token's Secret and to know when they hold its new content.
package consumers
