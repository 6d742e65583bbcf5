// Package clustertest runs a Kubernetes cluster of real nodes on one machine, for tests that
// install frr-renderer the way its users do: a DaemonSet whose pods containerd and a real
// kubelet run, on each node's own network.
//
// The lab: the control plane (etcd and kube-apiserver from internal/kubetest,
// kube-controller-manager, kube-scheduler) in a network namespace of its own, and each node a
// network namespace with its own containerd and kubelet (its hostNetwork pods live there),
// every namespace attached by a veth to one L2 segment that the test provides (a bridge in a
// namespace of its own, where a ToR can sit). Pods reach the API server as in a cluster: the
// `kubernetes` Service's ClusterIP is an address of the control plane's namespace, routed to
// it from each node, and kubelets inject it with the service account's projected token.
// Images come from `docker save` archives imported into each node's containerd: no registry.
//
// The binaries come from hack/kube-binaries.sh --node (built once, cached); containerd, runc
// and the CNI loopback plugin from Debian (hack/install-deps.sh). Everything needs root.
// Known limits of the machines it runs on (see Start): no CAP_SYS_RESOURCE, so pods get no
// negative OOM score; cgroup v1.
//
// It is for tests only. Every address it uses is inside the namespaces it creates, and it
// leaves nothing behind: the test's cleanup stops every daemon, removes the pods' containers,
// mounts, cgroups and namespaces, failed or not, and a later run removes what a killed test
// process left.
package clustertest
