// Command pause is the sandbox ("pause") container of clustertest's nodes: it holds the pod's
// namespaces, reaps the children it inherits and exits on SIGINT or SIGTERM. Kubernetes' own
// is a C program in an image from a registry; the lab builds this one instead.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range sigs {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
