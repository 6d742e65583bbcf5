// Package sidecar is frr-renderer's Kubernetes mode, the product's main one: it wires the
// informer source, the reconcile loop and the applier together, and around them what tells
// users and operators how the node is doing: the CiliumBGPNodeConfig status, Events, Prometheus
// metrics and health endpoints.
//
// It owns no logic of its own beyond that wiring: what to configure is internal/translate's,
// how to configure it internal/vtysh's. It must never touch FRR before every informer has
// synced (internal/kube guarantees it) and never let a status, event or metric carry a secret.
//
// Durations in its options follow the rule of every loop here (reconcile, nodestatus, sidecar,
// vtysh.Applier.Run): zero is the documented default, negative none (no settling, never a
// status refresh).
package sidecar

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/frr-renderer/frr-renderer/internal/kube"
	"github.com/frr-renderer/frr-renderer/internal/metrics"
	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/nodestatus"
	"github.com/frr-renderer/frr-renderer/internal/reconcile"
	"github.com/frr-renderer/frr-renderer/internal/translate"
	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

// Settling of the Kubernetes mode: an informer delivers whole objects, so the loop need not
// wait for a file to be complete; it waits only long enough to take in an apply of several
// objects at once. Services and EndpointSlices alone, after a quiet time, are read almost at
// once: QuickSettle takes in the events one chunk of a watch delivers together (they reach the
// handlers microseconds apart), not more: the next write, even a controller's answer to this
// one, comes milliseconds later, and every change waits QuickSettle on its way to the ToR
// (1 ms was a tenth of the margin BenchmarkServiceEditScale measures). Changes that follow a
// read closely are a burst: an API server under load delivers it in clumps with pauses of
// several milliseconds, and the loop waits for a longer pause (BurstSettle) before it reads
// again (1,000 Service updates at 10,000 Services made 36 applies with Settle alone:
// BenchmarkSidecarScale).
const (
	DefaultSettle      = 5 * time.Millisecond
	DefaultQuickSettle = 250 * time.Microsecond
	DefaultBurstSettle = 50 * time.Millisecond
	DefaultMaxSettle   = 500 * time.Millisecond
)

// Config is what Run needs.
type Config struct {
	Node             string
	SecretsNamespace string
	// Options are the agent options of translation; Node and SecretsNamespace are set from
	// the fields above.
	Options translate.Options
	Dialect frrconfig.Dialect
	// RunDir is FRR's run directory (bgpd.vty); StateFile as vtysh.ApplierOptions has it.
	RunDir, StateFile string
	// ListenPortFile is reconcile.Config's.
	ListenPortFile string
	// HostFacts is a facts file; "" follows this network namespace through netlink.
	HostFacts string
	// MetricsAddr serves /metrics, /healthz and /readyz; "" serves nothing.
	MetricsAddr string
	// HealthAddr serves /healthz and /readyz only; "" serves nothing.
	HealthAddr string
	// StatusInterval is how often the CiliumBGPNodeConfig status is refreshed (± jitter);
	// 0 is nodestatus's default, negative never.
	StatusInterval time.Duration
	// Settle, QuickSettle, BurstSettle and MaxSettle are reconcile.Config's, with this
	// package's defaults: zero is the default, negative none.
	Settle, QuickSettle, BurstSettle, MaxSettle time.Duration
	Log                                         logr.Logger
}

// orDefault is d with zero replaced by def; a negative d (none) goes to the reconcile loop
// as it is.
func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Run runs the sidecar until ctx ends. It returns nil then, or an error when a part stops by
// itself.
func Run(ctx context.Context, restCfg *rest.Config, cfg Config) error {
	restCfg = rest.CopyConfig(restCfg)
	restCfg.UserAgent = "frr-renderer/" + cfg.Node
	// Not the typed clientset (see kube.Start).
	clients, err := kube.NewClients(restCfg)
	if err != nil {
		return err
	}
	return run(ctx, clients, cfg)
}

func run(ctx context.Context, clients kube.Clients, cfg Config) error {
	dynClient := clients.Dynamic
	log := cfg.Log
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	src, err := kube.Start(ctx, clients, kube.Options{Node: cfg.Node, SecretsNamespace: cfg.SecretsNamespace, Log: log.WithName("informers")})
	if err != nil {
		return err
	}
	events := kube.NewEvents(ctx, dynClient, cfg.Node, src.UID, log.WithName("events"))
	m := metrics.New()
	m.CountWatchErrors(src.WatchErrors)

	app := vtysh.NewApplier(vtysh.ApplierOptions{
		RunDir: cfg.RunDir, StateFile: cfg.StateFile, Log: log.WithName("applier"),
		OnApply: func(res vtysh.ApplyResult, err error) {
			m.ObserveApply(res, err)
			if err == nil {
				// FRR runs what was latest when this apply started.
				m.Applied(time.Now().Add(-res.Duration))
			}
			events.Applied(err)
			events.StateFile(res.StateErr)
			events.SessionsReset(res.SessionResets)
		},
	})
	defer app.Close()

	var latest nodestatus.Latest
	var names instanceNames
	rcfg := reconcile.Config{
		Desired:        src,
		HostFacts:      cfg.HostFacts,
		Options:        withNode(cfg),
		Dialect:        cfg.Dialect,
		Settle:         orDefault(cfg.Settle, DefaultSettle),
		QuickSettle:    orDefault(cfg.QuickSettle, DefaultQuickSettle),
		BurstSettle:    orDefault(cfg.BurstSettle, DefaultBurstSettle),
		MaxSettle:      orDefault(cfg.MaxSettle, DefaultMaxSettle),
		ListenPortFile: cfg.ListenPortFile,
		Report: func(r reconcile.Report) {
			m.Reconciled(r.Outcome)
			m.SetFailedInstances(len(r.Failed))
			if r.Outcome == reconcile.Submitted {
				m.Submitted(r.SubmittedAt)
			}
			events.Diagnostics(r.Appeared)
			st := nodestatus.State{Config: r.Config, Problems: r.Problems}
			if r.Snapshot != nil {
				if spec, owner, ok := translate.DeriveNodeConfig(r.Snapshot, cfg.Node); ok {
					st.Spec, st.Owner = spec, owner
				}
			}
			latest.Set(st)
			names.set(r.Config)
		},
	}

	// bgpd's sessions are read once per round, by one ticker, for the metrics, the readiness
	// check "bgpd" and the status, whether or not a status is written (a node no ClusterConfig
	// selects has none).
	sessions := &sessionReader{runDir: cfg.RunDir}
	defer sessions.close()
	interval := cfg.StatusInterval
	if interval <= 0 {
		interval = nodestatus.DefaultInterval
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2) // metrics and health
	wg.Go(func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			rctx, cancel := context.WithTimeout(ctx, interval)
			s, _ := sessions.read(rctx)
			cancel()
			m.SetSessions(names.get(), s) // none when bgpd cannot be read: no stale Established
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	if cfg.StatusInterval >= 0 {
		wg.Go(func() {
			w := nodestatus.NewWriter(dynClient, cfg.Node)
			nodestatus.Run(ctx, cfg.StatusInterval, 0, w, nodestatus.Inputs{State: latest.Get, Sessions: sessions.latest}, log.WithName("status"))
		})
	}
	checks := []metrics.Check{
		{Name: "informers", Err: func() error {
			if !src.Synced() {
				return errors.New("not synced yet")
			}
			return nil
		}},
		{Name: "bgpd", Err: func() error { _, err := sessions.latest(ctx); return err }},
		m.ApplyCheck(),
	}
	if cfg.MetricsAddr != "" {
		wg.Go(func() {
			if err := metrics.Serve(ctx, cfg.MetricsAddr, m, checks, log.WithName("metrics")); err != nil {
				errs <- err
			}
		})
	}
	if cfg.HealthAddr != "" {
		wg.Go(func() {
			if err := metrics.ServeHealth(ctx, cfg.HealthAddr, checks, log.WithName("health")); err != nil {
				errs <- err
			}
		})
	}

	loopDone := make(chan error, 1)
	go func() { loopDone <- reconcile.Run(ctx, rcfg, app, log) }()
	select {
	case err = <-loopDone:
	case err = <-errs:
		cancel()
		<-loopDone
	}
	cancel()
	wg.Wait()
	<-src.Done()
	return err
}

// instanceNames tells the metrics what bgpd's sessions do not say: the Cilium instance of each
// FRR view (the first instance is bgpd's default instance, the others views of their own name)
// and each peer's port.
type instanceNames struct {
	mu sync.Mutex
	p  metrics.Peers
}

func (n *instanceNames) set(cfg *model.NodeConfig) {
	if cfg == nil {
		return
	}
	p := metrics.Peers{Instances: make(map[string]string, len(cfg.Instances)), Ports: map[metrics.PeerKey]uint16{}}
	for i, in := range cfg.Instances {
		view := ""
		if i > 0 {
			view = model.ViewName(in.Name)
		}
		p.Instances[view] = in.Name
		ports := map[string]uint16{}
		for _, g := range in.PeerGroups {
			ports[g.Name] = g.PeerPort
		}
		for _, peer := range in.Peers {
			if port := ports[peer.Group]; port != 0 {
				p.Ports[metrics.PeerKey{View: view, Peer: peer.Address}] = port
			}
		}
	}
	n.mu.Lock()
	n.p = p
	n.mu.Unlock()
}

func (n *instanceNames) get() metrics.Peers {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.p
}

// sessionReader reads bgpd's sessions over a connection of its own (the applier's is the
// writer's), dialled again after a failure.
type sessionReader struct {
	runDir string

	mu     sync.Mutex
	client *vtysh.Client
	read1  bool // a read was made
	last   []vtysh.Session
	err    error
}

var errNotRead = errors.New("not read yet")

// read reads the sessions from bgpd and keeps them for latest.
func (r *sessionReader) read(ctx context.Context) ([]vtysh.Session, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.read1, r.last, r.err = true, nil, nil
	if r.client == nil {
		c, err := vtysh.Dial(ctx, vtysh.SocketPath(r.runDir, "bgpd"))
		if err != nil {
			r.err = err
			return nil, err
		}
		r.client = c
	}
	r.last, r.err = r.client.Sessions(ctx)
	if r.err != nil && vtysh.Disconnected(r.err) {
		r.client.Close()
		r.client = nil
	}
	return r.last, r.err
}

// latest is what the last read found (the caller must not modify it); errNotRead before the
// first.
func (r *sessionReader) latest(context.Context) ([]vtysh.Session, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.read1 {
		return nil, errNotRead
	}
	return r.last, r.err
}

func (r *sessionReader) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.client != nil {
		r.client.Close()
		r.client = nil
	}
}

// withNode is the translation options of cfg.
func withNode(cfg Config) translate.Options {
	o := cfg.Options
	o.Node, o.SecretsNamespace = cfg.Node, cfg.SecretsNamespace
	return o
}
