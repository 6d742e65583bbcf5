package main

// This file is `frr-renderer run`: the standalone, long-running mode. It parses the flags,
// makes the logger and the applier, and hands them to reconcile.Run, which follows the
// sources and keeps the applier fed.

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/frr-renderer/frr-renderer/internal/reconcile"
	"github.com/frr-renderer/frr-renderer/internal/sidecar"
	"github.com/frr-renderer/frr-renderer/internal/translate"
	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

// frrRunRoot is FRR's run directory; a pathspace (-N NAME) has a folder of its own in it.
const frrRunRoot = "/var/run/frr"

func runRun(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("run", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var watch stringList
	node := fl.String("node", "", "node to render for (required)")
	fl.Var(&watch, "watch", "manifest file or folder (recursive) to read and follow, instead of the Kubernetes API (standalone mode); repeatable")
	kubeconfig := fl.String("kubeconfig", "", "kubeconfig of the API server to follow (default: in-cluster, else $KUBECONFIG)")
	metricsAddr := fl.String("metrics-addr", "", "address serving /metrics, /healthz and /readyz, e.g. :9253 (Kubernetes mode; default: none)")
	statusInterval := fl.Duration("status-interval", 0, "how often the CiliumBGPNodeConfig status is refreshed, ± jitter (Kubernetes mode; default 5s; negative: never)")
	hostFacts := fl.String("host-facts", "", "YAML file with the host's interfaces and default routes, followed (default: this network namespace through netlink, followed)")
	secretsNS := fl.String("secrets-namespace", translate.DefaultSecretsNamespace, "namespace of the Secrets that authSecretRef names")
	frrVersion := fl.String("frr-version", "10", "FRR version to write for: 10 (the deploy image) or 8 (Debian 12)")
	pathspace := fl.String("pathspace", "", "FRR pathspace (watchfrr -N NAME) of the FRR to configure")
	vtyDir := fl.String("vty-socket", "", "FRR's run directory, holding bgpd.vty (default "+frrRunRoot+", or "+frrRunRoot+"/PATHSPACE)")
	listenPortFile := fl.String("listen-port-file", "", "file to write bgpd's listening port to (the BGP instances' localPort, 0 for none) when it changes, for what starts bgpd (bgpd -p); default: none")
	stateFile := fl.String("state-file", "", "file remembering what frr-renderer owns in bgpd (default: frr-renderer.state in the --vty-socket directory)")
	verbosity := fl.Int("v", 0, "log verbosity: 0 changes and problems, 1 every render, 2 every signal")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	switch {
	case fl.NArg() > 0:
		fmt.Fprintf(stderr, "run: unexpected argument %q\n", fl.Arg(0))
		return 2
	case *node == "":
		fmt.Fprintln(stderr, "run: --node is required")
		return 2
	case len(watch) > 0 && (*kubeconfig != "" || *metricsAddr != "" || *statusInterval != 0):
		fmt.Fprintln(stderr, "run: --watch (standalone mode) excludes --kubeconfig, --metrics-addr and --status-interval (Kubernetes mode)")
		return 2
	case slices.Contains(watch, "-") || *hostFacts == "-":
		fmt.Fprintln(stderr, "run: stdin cannot be followed: name files or folders")
		return 2
	case *pathspace != "" && (strings.ContainsRune(*pathspace, '/') || *pathspace == "." || *pathspace == ".."):
		fmt.Fprintf(stderr, "run: --pathspace %q is not a plain name\n", *pathspace)
		return 2
	}
	dialect, err := frrconfig.ParseDialect(*frrVersion)
	if err != nil {
		fmt.Fprintf(stderr, "run: %v\n", err)
		return 2
	}

	log := newLogger(stderr, *verbosity)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir := vtyRunDir(*vtyDir, *pathspace)
	if len(watch) == 0 {
		return runSidecar(ctx, log, *kubeconfig, sidecar.Config{
			Node:             *node,
			SecretsNamespace: *secretsNS,
			Dialect:          dialect,
			RunDir:           dir,
			StateFile:        *stateFile,
			ListenPortFile:   *listenPortFile,
			HostFacts:        *hostFacts,
			MetricsAddr:      *metricsAddr,
			StatusInterval:   *statusInterval,
			Settle:           sidecar.DefaultSettle,
			MaxSettle:        sidecar.DefaultMaxSettle,
			Log:              log,
		})
	}
	app := vtysh.NewApplier(vtysh.ApplierOptions{RunDir: dir, StateFile: *stateFile, Log: log.WithName("applier")})
	defer app.Close()
	cfg := reconcile.Config{
		Watch:          watch,
		HostFacts:      *hostFacts,
		Options:        translate.Options{Node: *node, SecretsNamespace: *secretsNS},
		Dialect:        dialect,
		ListenPortFile: *listenPortFile,
		Settle:         reconcile.DefaultSettle,
		MaxSettle:      reconcile.DefaultMaxSettle,
	}
	log.Info("starting", "node", *node, "watch", []string(watch), "hostFacts", cmp.Or(*hostFacts, "netlink"),
		"frrVersion", dialect.String(), "runDir", dir)
	if err := reconcile.Run(ctx, cfg, app, log); err != nil {
		log.Error(err, "stopped")
		return 1
	}
	// FRR keeps the configuration it runs: stopping frr-renderer withdraws nothing.
	log.Info("stopped")
	return 0
}

// defaultMemoryLimit is the Go runtime's soft memory limit in Kubernetes mode when GOMEMLIMIT
// does not set one: the garbage collector then keeps the heap near what is live instead of
// letting it double (10,000 Services: ~22 MiB live, 48 MiB anonymous memory without the limit,
// 36 with it; see test/e2e's BenchmarkSidecarScale). The DaemonSet sets GOMEMLIMIT from the
// container's memory limit.
const defaultMemoryLimit = 40 << 20

// runSidecar runs the Kubernetes mode.
func runSidecar(ctx context.Context, log logr.Logger, kubeconfig string, cfg sidecar.Config) int {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	// client-go logs through klog: into the same JSON lines.
	klog.SetLogger(log.WithName("client-go"))
	restCfg, err := restConfig(kubeconfig)
	if err != nil {
		log.Error(err, "no Kubernetes API to follow")
		return 1
	}
	log.Info("starting", "mode", "kubernetes", "node", cfg.Node, "apiServer", restCfg.Host, "secretsNamespace", cfg.SecretsNamespace,
		"hostFacts", cmp.Or(cfg.HostFacts, "netlink"), "frrVersion", cfg.Dialect.String(), "runDir", cfg.RunDir, "metricsAddr", cfg.MetricsAddr,
		"memoryLimit", debug.SetMemoryLimit(-1))
	if err := sidecar.Run(ctx, restCfg, cfg); err != nil {
		log.Error(err, "stopped")
		return 1
	}
	// FRR keeps the configuration it runs: stopping frr-renderer withdraws nothing.
	log.Info("stopped")
	return 0
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

// vtyRunDir is the directory of bgpd's vty socket: --vty-socket, else FRR's run directory of the
// pathspace.
func vtyRunDir(vtyDir, pathspace string) string {
	switch {
	case vtyDir != "":
		return vtyDir
	case pathspace != "":
		return filepath.Join(frrRunRoot, pathspace)
	}
	return frrRunRoot
}

// newLogger logs JSON lines to w; verbosity v enables logr's V(0) to V(v). A record of V(n),
// n > 0, has level "V<n>" (slog would say DEBUG+<4-n>).
func newLogger(w io.Writer, v int) logr.Logger {
	return logr.FromSlogHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: slog.Level(-v),
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if l, ok := a.Value.Any().(slog.Level); ok && len(groups) == 0 && a.Key == slog.LevelKey && l < slog.LevelInfo && l > slog.LevelDebug {
				a.Value = slog.StringValue(fmt.Sprintf("V%d", -l))
			}
			return a
		},
	}))
}
