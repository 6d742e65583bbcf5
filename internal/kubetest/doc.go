// Package kubetest runs a real etcd and kube-apiserver on loopback for tests: the end-to-end
// tests of the Kubernetes sidecar talk to a genuine API server (RBAC, CRD validation, watches
// that break when the server goes away) without a cluster, a container image or a download.
//
// The binaries come from hack/kube-binaries.sh (built once from the Go module proxy and cached)
// or from $KUBE_BINARIES. Only the API server runs: no controller-manager, scheduler or kubelet,
// so EndpointSlices, ServiceAccounts and Node status are whatever the test creates.
//
// With Options.Netns it is the control plane of a lab of real nodes (internal/clustertest): the
// processes then run in that network namespace, which the test made, and clients dial into it.
//
// It is for tests only. It must never bind anything in the test's own namespace but 127.0.0.1
// (etcd speaks plain HTTP without authentication, which is tolerable on loopback only; in a
// lab's namespace etcd stays on its loopback), and it must never leave a
// process behind: both are killed and reaped by the test's cleanup, failed or not, and receive
// SIGKILL if the test binary itself dies.
package kubetest
