package main

// This file is `frr-renderer run`, the long-running modes: it parses the flags, makes the logger,
// and hands over to sidecar.Run (Kubernetes mode) or to an applier fed by reconcile.Run
// (standalone mode), with the health endpoints beside it.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/frr-renderer/frr-renderer/internal/metrics"
	"github.com/frr-renderer/frr-renderer/internal/reconcile"
	"github.com/frr-renderer/frr-renderer/internal/sidecar"
	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

// defaultHealthAddr serves /healthz and /readyz on the node's loopback: the DaemonSet's probes
// reach it with httpGet host 127.0.0.1 (the pod shares the host's network), and nothing off the
// node does.
const defaultHealthAddr = "127.0.0.1:9254"

// runFlags are `run`'s flags.
type runFlags struct {
	in             inputFlags
	target         frrFlags
	log            logFlags
	watch          []string
	kubeconfig     string
	metricsAddr    string
	healthAddr     string
	statusInterval time.Duration
	stateFile      string
	listenPortFile string
}

func newRunCommand(s *streams) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run --node NAME [--watch PATH... | --kubeconfig FILE]",
		Short: "keep the FRR beside it configured, following the Kubernetes API (or manifests with --watch)",
		Long: `run keeps the FRR beside it running the node's configuration, until SIGTERM or SIGINT.

Kubernetes mode (the default): informers on the BGP resources (in-cluster credentials,
--kubeconfig or $KUBECONFIG); the CiliumBGPNodeConfig status, Events, and with --metrics-addr
Prometheus metrics. Standalone mode (--watch): follows manifest files and folders instead.
Both follow the host (netlink, or --host-facts FILE), send FRR only the delta, re-apply after a
restart of bgpd or zebra, and serve /healthz and /readyz on --health-addr.
Stopping frr-renderer withdraws nothing: FRR keeps its configuration.`,
		Example: `  frr-renderer run --node "$NODE_NAME" --metrics-addr :9253 --secrets-namespace kube-system --log-format json
  frr-renderer run --node worker-1 --watch manifests/ --pathspace demo-worker-1 --frr-version 8`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRun(s, &f) },
	}
	fs := cmd.Flags()
	f.in.register(fs, "the same as --watch")
	f.target.register(fs)
	f.log.register(fs)
	fs.StringArrayVar(&f.watch, "watch", nil, "manifest file or folder (recursive) to read and follow, instead of the Kubernetes API (standalone mode); repeatable")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig of the API server to follow (default: in-cluster, else $KUBECONFIG)")
	fs.StringVar(&f.metricsAddr, "metrics-addr", "", "address serving /metrics, /healthz and /readyz, e.g. :9253 (Kubernetes mode; default: none)")
	fs.StringVar(&f.healthAddr, "health-addr", defaultHealthAddr, "address serving /healthz and /readyz (both modes; empty: none)")
	fs.DurationVar(&f.statusInterval, "status-interval", 0, "how often the CiliumBGPNodeConfig status is refreshed, ± jitter (Kubernetes mode; default 5s; negative: never)")
	fs.StringVar(&f.listenPortFile, "listen-port-file", "", "file to write bgpd's listening port to (the BGP instances' localPort, 0 for none) when it changes, for what starts bgpd (bgpd -p); default: none")
	fs.StringVar(&f.stateFile, "state-file", "", "file remembering what frr-renderer owns in bgpd (default: frr-renderer.state in the --vty-socket directory)")
	return cmd
}

func runRun(s *streams, f *runFlags) error {
	node := f.in.nodeName()
	f.watch = append(f.watch, f.in.paths...)
	switch {
	case node == "":
		return usageErrorf("--node is required")
	case len(f.watch) > 0 && (f.kubeconfig != "" || f.metricsAddr != "" || f.statusInterval != 0):
		return usageErrorf("--watch (standalone mode) excludes --kubeconfig, --metrics-addr and --status-interval (Kubernetes mode)")
	case slices.Contains(f.watch, "-") || f.in.hostFacts == "-":
		return usageErrorf("stdin cannot be followed: name files or folders")
	}
	if err := f.log.check(); err != nil {
		return err
	}
	dialect, err := f.in.dialect()
	if err != nil {
		return err
	}
	dir, err := f.target.runDir()
	if err != nil {
		return err
	}

	log := f.log.logger(s.err)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(f.watch) == 0 {
		return runSidecar(ctx, log, f.kubeconfig, sidecar.Config{
			Node:             node,
			SecretsNamespace: f.in.secretsNS,
			Options:          f.in.options(node),
			Dialect:          dialect,
			RunDir:           dir,
			StateFile:        f.stateFile,
			ListenPortFile:   f.listenPortFile,
			HostFacts:        f.in.hostFacts,
			MetricsAddr:      f.metricsAddr,
			HealthAddr:       f.healthAddr,
			StatusInterval:   f.statusInterval,
			Settle:           sidecar.DefaultSettle,
			QuickSettle:      sidecar.DefaultQuickSettle,
			MaxSettle:        sidecar.DefaultMaxSettle,
			Log:              log,
		})
	}
	app := vtysh.NewApplier(vtysh.ApplierOptions{RunDir: dir, StateFile: f.stateFile, Log: log.WithName("applier")})
	defer app.Close()
	cfg := reconcile.Config{
		Watch:          f.watch,
		HostFacts:      f.in.hostFacts,
		Options:        f.in.options(node),
		Dialect:        dialect,
		ListenPortFile: f.listenPortFile,
		Settle:         reconcile.DefaultSettle,
		QuickSettle:    reconcile.DefaultQuickSettle,
		MaxSettle:      reconcile.DefaultMaxSettle,
	}
	log.Info("starting", "node", node, "watch", f.watch, "hostFacts", cmp.Or(f.in.hostFacts, "netlink"),
		"frrVersion", dialect.String(), "runDir", dir, "healthAddr", f.healthAddr)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	healthDone := make(chan error, 1)
	if f.healthAddr != "" {
		go func() {
			err := metrics.ServeHealth(ctx, f.healthAddr, []metrics.Check{applierCheck(app)}, log.WithName("health"))
			if err != nil {
				cancel()
			}
			healthDone <- err
		}()
	} else {
		healthDone <- nil
	}
	err = reconcile.Run(ctx, cfg, app, log)
	cancel()
	err = cmp.Or(<-healthDone, err)
	if err != nil {
		log.Error(err, "stopped")
		return silentExit(exitFailure)
	}
	// FRR keeps the configuration it runs: stopping frr-renderer withdraws nothing.
	log.Info("stopped")
	return nil
}

// applierCheck is standalone mode's readiness: the last apply to bgpd succeeded and wrote the
// state file.
func applierCheck(app *vtysh.Applier) metrics.Check {
	return metrics.Check{Name: "apply", Err: func() error {
		st := app.Status()
		if st.Time.IsZero() {
			return errors.New("no apply yet")
		}
		return cmp.Or(st.Err, st.StateErr)
	}}
}

// memoryLimitEnv holds the sidecar container's memory limit in bytes (the chart sets it through
// the Downward API). Without GOMEMLIMIT, the Go runtime's soft limit is memoryLimitShare of it:
// the collector works harder only as the container nears its limit, with room left for what the
// runtime does not count (stacks, the binary). Without either, the runtime's default applies (the
// heap may grow to twice what is live). A fixed limit close to the live heap is a trap: at
// 10,000 Services the 40 MiB that was the default here made every change collect several times:
// 68-82 ms from the API write to bgpd's table instead of 14 (BenchmarkServiceEditScale).
const (
	memoryLimitEnv   = "FRR_RENDERER_MEMORY_LIMIT"
	memoryLimitShare = 0.9
)

// memoryLimit is the soft memory limit to set from the environment, or 0 to leave the
// runtime's; an unreadable memoryLimitEnv is an error (and no limit).
func memoryLimit(getenv func(string) string) (int64, error) {
	if getenv("GOMEMLIMIT") != "" {
		return 0, nil // the runtime read it at start
	}
	s := getenv(memoryLimitEnv)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s=%q: want the container's memory limit in bytes", memoryLimitEnv, s)
	}
	return int64(float64(n) * memoryLimitShare), nil
}

// runSidecar runs the Kubernetes mode.
func runSidecar(ctx context.Context, log logr.Logger, kubeconfig string, cfg sidecar.Config) error {
	if limit, err := memoryLimit(os.Getenv); err != nil {
		log.Error(err, "no memory limit set")
	} else if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	// client-go logs through klog: into the same JSON lines.
	klog.SetLogger(log.WithName("client-go"))
	restCfg, err := restConfig(kubeconfig)
	if err != nil {
		log.Error(err, "no Kubernetes API to follow")
		return silentExit(exitFailure)
	}
	log.Info("starting", "mode", "kubernetes", "node", cfg.Node, "apiServer", restCfg.Host, "secretsNamespace", cfg.SecretsNamespace,
		"hostFacts", cmp.Or(cfg.HostFacts, "netlink"), "frrVersion", cfg.Dialect.String(), "runDir", cfg.RunDir, "metricsAddr", cfg.MetricsAddr,
		"memoryLimit", debug.SetMemoryLimit(-1))
	if err := sidecar.Run(ctx, restCfg, cfg); err != nil {
		log.Error(err, "stopped")
		return silentExit(exitFailure)
	}
	// FRR keeps the configuration it runs: stopping frr-renderer withdraws nothing.
	log.Info("stopped")
	return nil
}

// restConfig is --kubeconfig's, else the pod's service account's, else $KUBECONFIG's.
func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig != "" {
		return clientcmd.BuildConfigFromFlags("", kubeconfig)
	}
	if c, err := rest.InClusterConfig(); err == nil {
		return c, nil
	} else if os.Getenv("KUBECONFIG") == "" {
		return nil, fmt.Errorf("not in a cluster (%w), and neither --kubeconfig nor $KUBECONFIG is set", err)
	}
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(clientcmd.NewDefaultClientConfigLoadingRules(), nil).ClientConfig()
}
