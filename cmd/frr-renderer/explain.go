package main

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"

	"github.com/frr-renderer/frr-renderer/internal/explain"
	"github.com/frr-renderer/frr-renderer/internal/kube"
	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/translate"
)

func newExplainCommand(s *streams) *cobra.Command {
	var (
		in         inputFlags
		kubeconfig string
		output     outputFormat
	)
	cmd := &cobra.Command{
		Use:   "explain --node NAME [-f PATH... | --kubeconfig FILE] (PREFIX | ADDRESS | PEER)",
		Short: "why a prefix is advertised or not, and where a peer's settings come from",
		Long: `explain answers two questions about a node's BGP configuration.

For a prefix or an address: which advertisement rule, selector, and Service, CiliumNode or
CiliumPodIPPool produced it, to which peers and families it goes with which communities and
local preference; and if it is not advertised, which rule stopped it (the PeerConfig's families
and advertisement selector, the rule's selector and address types, the Service's type,
loadBalancerClass, traffic policy and endpoints, the pool's mask size, the interface's state).

For a peer (its name, or its address): which CiliumBGPClusterConfig, CiliumBGPPeerConfig, Secret
(never its value) and CiliumBGPNodeConfigOverride set each of its settings, and which of Cilium's
defaults applied.

It reads the manifests given with -f, or with no -f the cluster (--kubeconfig, in-cluster
credentials or $KUBECONFIG): the same objects the sidecar's caches hold.`,
		Example: `  frr-renderer explain --node cp-1 -f manifests/ 172.20.0.1
  frr-renderer explain --node cp-1 -f manifests/ 10.244.0.0/24 -o json
  frr-renderer explain --node cp-1 -f manifests/ 192.168.10.1     # a peer's address
  frr-renderer explain --node "$NODE_NAME" tor-1                  # in the pod, from the API`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("explain takes one prefix, address or peer name; got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExplain(s, &in, kubeconfig, output, args[0])
		},
	}
	fs := cmd.Flags()
	in.register(fs, "manifest file, folder (recursive) or - for stdin; repeatable (default: the cluster)")
	fs.StringVar(&kubeconfig, "kubeconfig", "", "read the cluster through this kubeconfig (default with no -f: in-cluster, else $KUBECONFIG)")
	registerOutput(fs, &output)
	return cmd
}

func runExplain(s *streams, in *inputFlags, kubeconfig string, output outputFormat, query string) error {
	node := in.nodeName()
	if node == "" {
		return usageErrorf("--node is required")
	}
	if len(in.paths) > 0 && kubeconfig != "" {
		return usageErrorf("-f and --kubeconfig exclude each other")
	}
	var (
		snap  *model.Snapshot
		diags []model.Diagnostic
		err   error
	)
	if len(in.paths) > 0 {
		snap, diags, err = loadSnapshot(in.paths, s.in)
	} else {
		snap, diags, err = clusterSnapshot(kubeconfig, node, in.secretsNS)
	}
	if err != nil {
		return failure(err)
	}
	printDiagnostics(s.err, diags)
	facts, err := loadHostFacts(in.hostFacts, false)
	if err != nil {
		return failure(err)
	}
	input := explain.Input{Snapshot: snap, Host: facts, Options: in.options(node)}

	isPeer, prefix, err := explainQuery(input, query)
	if err != nil {
		return failure(err)
	}
	if isPeer {
		ans, err := explain.Peer(input, query)
		if err != nil {
			return failure(err)
		}
		return writeOutput(s.out, output, ans, func(w io.Writer) error { return writePeerAnswer(w, ans) })
	}
	ans, err := explain.Prefix(input, prefix)
	if err != nil {
		return failure(err)
	}
	return writeOutput(s.out, output, ans, func(w io.Writer) error { return writePrefixAnswer(w, ans) })
}

// explainQuery tells a prefix from a peer: a prefix has a "/"; an address is a peer's when a
// peer has it, else a host prefix; anything else names a peer.
func explainQuery(in explain.Input, q string) (isPeer bool, prefix netip.Prefix, err error) {
	if p, err := netip.ParsePrefix(q); err == nil {
		return false, p, nil
	}
	a, err := netip.ParseAddr(q)
	if err != nil {
		return true, netip.Prefix{}, nil
	}
	res, err := translate.Translate(in.Snapshot, in.Host, in.Options)
	if err != nil {
		return false, netip.Prefix{}, err
	}
	for _, inst := range res.Config.Instances {
		for _, p := range inst.Peers {
			if p.Address == a {
				return true, netip.Prefix{}, nil
			}
		}
	}
	return false, netip.PrefixFrom(a, a.BitLen()), nil
}

// clusterSnapshot reads the node's objects from the API server, as the sidecar's informers do.
func clusterSnapshot(kubeconfig, node, secretsNS string) (*model.Snapshot, []model.Diagnostic, error) {
	restCfg, err := restConfig(kubeconfig)
	if err != nil {
		return nil, nil, fmt.Errorf("no manifests (-f) and no cluster to read: %w", err)
	}
	clients, err := kube.NewClients(restCfg)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
	defer cancel()
	src, err := kube.Start(ctx, clients, kube.Options{Node: node, SecretsNamespace: secretsNS, Log: logr.Discard()})
	if err != nil {
		return nil, nil, err
	}
	select {
	case <-src.Changes(): // the first token: every informer has synced
	case <-ctx.Done():
		return nil, nil, fmt.Errorf("reading the cluster at %s: %w", restCfg.Host, ctx.Err())
	}
	return src.Load()
}

func writePrefixAnswer(w io.Writer, a explain.PrefixAnswer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s on node %s\n", a.Query, a.Node)
	for _, ad := range a.Advertised {
		fmt.Fprintf(&b, "\nadvertised by instance %s as %s (%s)\n", ad.Instance, ad.Prefix, ad.Family)
		for _, o := range ad.Origins {
			detail := ""
			if o.Detail != "" {
				detail = " (" + o.Detail + ")"
			}
			fmt.Fprintf(&b, "  from   CiliumBGPAdvertisement/%s spec.advertisements[%d] (%s): %s%s\n", o.Rule.Advertisement, o.Rule.Index, o.Rule.Type, o.Object, detail)
		}
		for _, e := range ad.Exports {
			fmt.Fprintf(&b, "  to     CiliumBGPPeerConfig/%s: %s\n", e.PeerConfig, strings.Join(e.Peers, ", "))
			var attrs []string
			if len(e.Communities) > 0 {
				attrs = append(attrs, "communities "+strings.Join(e.Communities, " "))
			}
			if len(e.LargeCommunities) > 0 {
				attrs = append(attrs, "large communities "+strings.Join(e.LargeCommunities, " "))
			}
			if e.LocalPreference != nil {
				attrs = append(attrs, fmt.Sprintf("local preference %d", *e.LocalPreference))
			}
			if len(attrs) == 0 {
				attrs = append(attrs, "no communities, no local preference")
			}
			fmt.Fprintf(&b, "         with %s\n", strings.Join(attrs, "; "))
			if e.LocalPreferenceNote != "" {
				fmt.Fprintf(&b, "         (local preference %s)\n", e.LocalPreferenceNote)
			}
		}
		if len(ad.Exports) == 0 {
			fmt.Fprintf(&b, "  to     no peer\n")
		}
	}
	if len(a.NotAdvertised) > 0 {
		fmt.Fprintf(&b, "\nnot advertised:\n")
		for _, r := range a.NotAdvertised {
			var where []string
			for _, s := range []string{r.Instance, r.Object, r.Rule, r.PeerConfig} {
				if s != "" {
					where = append(where, s)
				}
			}
			fmt.Fprintf(&b, "  [%s] %s\n", r.Code, strings.Join(where, ", "))
			fmt.Fprintf(&b, "      %s\n", r.Message)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writePeerAnswer(w io.Writer, a explain.PeerAnswer) error {
	fmt.Fprintf(w, "peer %s (%s) of instance %s on node %s\n\n", a.Peer, a.Query, a.Instance, a.Node)
	rows := make([][]string, 0, len(a.Settings))
	for _, s := range a.Settings {
		rows = append(rows, []string{s.Name, s.Value, s.From})
	}
	if err := writeTable(w, []string{"Setting", "Value", "From"}, rows); err != nil {
		return err
	}
	for _, f := range a.Families {
		adverts := strings.Join(f.Advertisements, ", ")
		if adverts == "" {
			adverts = "none"
		}
		fmt.Fprintf(w, "\n%s advertisements: %s\n  (%s)\n", f.Family, adverts, f.Selector)
	}
	return nil
}
