package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"

	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/nodestatus"
	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

// queryTimeout bounds an operator command's questions to bgpd or the API server.
const queryTimeout = 30 * time.Second

// peerRow is one BGP peer of one node: a line per family in the table, as `cilium bgp peers`.
type peerRow struct {
	Node string `json:"node"`
	// Instance is the BGP instance: Cilium's name in Kubernetes mode, FRR's view ("" for the
	// default instance) from the local FRR.
	Instance      string      `json:"instance,omitempty"`
	LocalAS       uint32      `json:"localAS"`
	PeerAS        uint32      `json:"peerAS"`
	PeerAddress   string      `json:"peerAddress"`
	SessionState  string      `json:"sessionState"`
	Uptime        string      `json:"uptime"`
	UptimeSeconds int64       `json:"uptimeSeconds"`
	Families      []familyRow `json:"families"`
}

type familyRow struct {
	AFI        string `json:"afi"`
	SAFI       string `json:"safi"`
	Received   uint32 `json:"received"`
	Advertised uint32 `json:"advertised"`
}

func newPeersCommand(s *streams) *cobra.Command {
	var (
		target     frrFlags
		node       string
		kubeconfig string
		output     outputFormat
	)
	cmd := &cobra.Command{
		Use:   "peers",
		Short: "the BGP peers and their sessions, like `cilium bgp peers`",
		Long: `peers lists the BGP peers of the local FRR (through bgpd's vty socket): one row per peer and
address family, with the columns of "cilium bgp peers". Session states are Cilium's (established,
active, idle, ...). "Received" counts what the inbound policy accepted: frr-renderer accepts
nothing from its peers, so it is 0.

With --kubeconfig (or in a cluster, when no local bgpd answers) it lists every node's peers
instead, from the status of the CiliumBGPNodeConfigs that each node's frr-renderer writes.`,
		Example: `  frr-renderer peers
  frr-renderer peers --pathspace demo-worker-1 -o json
  frr-renderer peers --kubeconfig ~/.kube/config`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := target.runDir()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
			defer cancel()
			rows, err := readPeers(ctx, dir, cmp.Or(node, os.Getenv(nodeFromEnv)), kubeconfig)
			if err != nil {
				return failure(err)
			}
			return writeOutput(s.out, output, rows, func(w io.Writer) error { return writePeersTable(w, rows) })
		},
	}
	fs := cmd.Flags()
	target.register(fs)
	fs.StringVar(&node, "node", "", "node name to show for the local FRR (default $"+nodeFromEnv+", else the host name)")
	fs.StringVar(&kubeconfig, "kubeconfig", "", "read every node's peers from the CiliumBGPNodeConfig statuses of this cluster")
	registerOutput(fs, &output)
	return cmd
}

// readPeers reads the local bgpd's sessions, or with a kubeconfig (or, in a cluster, when bgpd
// does not answer) every node's from the API server.
func readPeers(ctx context.Context, runDir, node, kubeconfig string) ([]peerRow, error) {
	if kubeconfig == "" {
		sessions, err := localSessions(ctx, runDir)
		if err == nil {
			if node == "" {
				node, _ = os.Hostname()
			}
			return peersFromSessions(node, sessions), nil
		}
		if !vtysh.Disconnected(err) || !inCluster() {
			return nil, err
		}
	}
	restCfg, err := restConfig(kubeconfig)
	if err != nil {
		return nil, err
	}
	client, err := dynamic.NewForConfig(restCfg)
	if err != nil {
		return nil, err
	}
	ncs, err := listNodeConfigs(ctx, client)
	if err != nil {
		return nil, err
	}
	return peersFromNodeConfigs(ncs, time.Now()), nil
}

// inCluster reports whether the process can reach an API server without a kubeconfig flag.
func inCluster() bool {
	return os.Getenv("KUBERNETES_SERVICE_HOST") != "" || os.Getenv("KUBECONFIG") != ""
}

// localSessions reads bgpd's sessions.
func localSessions(ctx context.Context, runDir string) ([]vtysh.Session, error) {
	c, err := dialBGPd(ctx, runDir)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.Sessions(ctx)
}

// dialBGPd connects to bgpd's vty socket in runDir, with an error that says where it looked.
func dialBGPd(ctx context.Context, runDir string) (*vtysh.Client, error) {
	sock := vtysh.SocketPath(runDir, "bgpd")
	c, err := vtysh.Dial(ctx, sock)
	if err != nil {
		return nil, fmt.Errorf("bgpd does not answer on %s (is FRR running with this pathspace? --pathspace, --vty-socket): %w", sock, err)
	}
	return c, nil
}

// peersFromSessions makes the rows of the local bgpd's sessions.
func peersFromSessions(node string, sessions []vtysh.Session) []peerRow {
	rows := make([]peerRow, 0, len(sessions))
	for _, s := range sessions {
		r := peerRow{
			Node:          node,
			Instance:      s.View,
			LocalAS:       s.LocalAS,
			PeerAS:        s.RemoteAS,
			PeerAddress:   s.Peer.String(),
			SessionState:  nodestatus.PeeringState(s.State),
			Uptime:        humanDuration(s.Uptime),
			UptimeSeconds: int64(s.Uptime / time.Second),
			Families:      []familyRow{},
		}
		for _, f := range s.Families {
			r.Families = append(r.Families, familyRow{AFI: f.AFI, SAFI: f.SAFI, Received: f.Received, Advertised: f.Advertised})
		}
		rows = append(rows, r)
	}
	return rows
}

// listNodeConfigs lists every CiliumBGPNodeConfig.
func listNodeConfigs(ctx context.Context, client dynamic.Interface) ([]model.CiliumBGPNodeConfig, error) {
	gvr := nodestatus.GVR
	list, err := client.Resource(gvr).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", gvr.Resource, err)
	}
	out := make([]model.CiliumBGPNodeConfig, 0, len(list.Items))
	for _, u := range list.Items {
		var nc model.CiliumBGPNodeConfig
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &nc); err != nil {
			return nil, fmt.Errorf("CiliumBGPNodeConfig/%s: %w", u.GetName(), err)
		}
		out = append(out, nc)
	}
	return out, nil
}

// peersFromNodeConfigs makes the rows of every node's status, sorted by node, instance, peer.
func peersFromNodeConfigs(ncs []model.CiliumBGPNodeConfig, now time.Time) []peerRow {
	rows := []peerRow{}
	for _, nc := range ncs {
		for _, inst := range nc.Status.BGPInstances {
			for _, p := range inst.PeerStatuses {
				r := peerRow{
					Node:         nc.Name,
					Instance:     inst.Name,
					LocalAS:      uint32(deref(inst.LocalASN)),
					PeerAS:       uint32(deref(p.PeerASN)),
					PeerAddress:  p.PeerAddress,
					SessionState: cmp.Or(deref(p.PeeringState), model.PeeringStateUnknown),
					Uptime:       humanDuration(0),
					Families:     []familyRow{},
				}
				if p.EstablishedTime != nil {
					if t, err := time.Parse(time.RFC3339, *p.EstablishedTime); err == nil {
						up := now.Sub(t)
						r.Uptime, r.UptimeSeconds = humanDuration(up), int64(max(up, 0)/time.Second)
					}
				}
				for _, c := range p.RouteCount {
					r.Families = append(r.Families, familyRow{AFI: c.AFI, SAFI: c.SAFI,
						Received: uint32(max(deref(c.Received), 0)), Advertised: uint32(max(deref(c.Advertised), 0))})
				}
				rows = append(rows, r)
			}
		}
	}
	slices.SortStableFunc(rows, func(a, b peerRow) int {
		return strings.Compare(a.Node+"\x00"+a.Instance+"\x00"+a.PeerAddress, b.Node+"\x00"+b.Instance+"\x00"+b.PeerAddress)
	})
	return rows
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

var errNoPeers = errors.New("no BGP peers")

// writePeersTable writes the rows in the columns of `cilium bgp peers`: one line per peer and
// family, the peer's own columns only on its first.
func writePeersTable(w io.Writer, rows []peerRow) error {
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, errNoPeers.Error())
		return err
	}
	header := []string{"Node", "Local AS", "Peer AS", "Peer Address", "Session State", "Uptime", "Family", "Received", "Advertised"}
	var lines [][]string
	for _, r := range rows {
		peer := []string{r.Node, strconv.FormatUint(uint64(r.LocalAS), 10), strconv.FormatUint(uint64(r.PeerAS), 10),
			r.PeerAddress, r.SessionState, r.Uptime}
		if len(r.Families) == 0 {
			lines = append(lines, append(peer, "", "", ""))
		}
		for i, f := range r.Families {
			if i > 0 {
				peer = make([]string, len(peer))
			}
			lines = append(lines, append(peer, f.AFI+"/"+f.SAFI, strconv.FormatUint(uint64(f.Received), 10), strconv.FormatUint(uint64(f.Advertised), 10)))
		}
	}
	return writeTable(w, header, lines)
}
