// Command pause is the end-to-end cluster's pod sandbox image: it holds a pod's
// namespaces and waits to be stopped, as registry.k8s.io/pause does, so that the
// cluster needs no image from a registry.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
}
