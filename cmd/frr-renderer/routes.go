package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

// Route tables, as `cilium bgp routes` names them.
const (
	tableAdvertised = "advertised"
	tableAvailable  = "available"
)

// routeRow is one route: a prefix's path bgpd has, or sends to one peer.
type routeRow struct {
	Node     string `json:"node"`
	Instance string `json:"instance,omitempty"`
	// VRouter is the instance's local AS, as cilium's CLI names it.
	VRouter          uint32   `json:"vrouter"`
	Peer             string   `json:"peer,omitempty"`
	Prefix           string   `json:"prefix"`
	Family           string   `json:"family"`
	NextHop          string   `json:"nextHop"`
	Age              string   `json:"age"`
	AgeSeconds       int64    `json:"ageSeconds"`
	Best             bool     `json:"best"`
	Origin           string   `json:"origin"`
	ASPath           string   `json:"asPath"`
	LocalPreference  *uint32  `json:"localPreference,omitempty"`
	Communities      []string `json:"communities,omitempty"`
	LargeCommunities []string `json:"largeCommunities,omitempty"`
	// Unresolved says why the outbound route-map's attributes are not shown.
	Unresolved string `json:"unresolved,omitempty"`
}

func newRoutesCommand(s *streams) *cobra.Command {
	var (
		target frrFlags
		node   string
		peer   string
		family string
		output outputFormat
	)
	cmd := &cobra.Command{
		Use:   "routes [advertised|available]",
		Short: "the routes bgpd advertises to each peer, or has, like `cilium bgp routes`",
		Long: `routes lists routes of the local FRR (through bgpd's vty socket), in the columns of
"cilium bgp routes":

  advertised (the default): per peer, what bgpd sends it, with the communities, large
      communities and local preference its outbound route-map sets (local preference only
      for iBGP peers: it is never sent to an eBGP peer);
  available: every path bgpd has.

Age is how long ago bgpd last changed the path.`,
		Example: `  frr-renderer routes
  frr-renderer routes advertised --peer 192.168.10.1 --family ipv4
  frr-renderer routes available -o json`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageErrorf("unexpected argument %q", args[1])
			}
			if len(args) == 1 && args[0] != tableAdvertised && args[0] != tableAvailable {
				return usageErrorf("%q is not a route table: advertised or available", args[0])
			}
			return nil
		},
		ValidArgs: []string{tableAdvertised, tableAvailable},
		RunE: func(cmd *cobra.Command, args []string) error {
			table := tableAdvertised
			if len(args) == 1 {
				table = args[0]
			}
			q := routeQuery{table: table}
			if peer != "" {
				a, err := netip.ParseAddr(peer)
				if err != nil {
					return usageErrorf("--peer %q is not an IP address", peer)
				}
				if table == tableAvailable {
					return usageErrorf("--peer applies to advertised routes only")
				}
				q.peer = a
			}
			switch family {
			case "", "ipv4", "ipv6":
				q.afi = family
			default:
				return usageErrorf("--family %q is not ipv4 or ipv6", family)
			}
			dir, err := target.runDir()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
			defer cancel()
			routes, sessions, err := readRoutes(ctx, dir, q)
			if err != nil {
				return failure(err)
			}
			node := cmp.Or(node, os.Getenv(nodeFromEnv))
			if node == "" {
				node, _ = os.Hostname()
			}
			rows := routeRows(node, routes, sessions, time.Now())
			return writeOutput(s.out, output, rows, func(w io.Writer) error { return writeRoutesTable(w, table, rows) })
		},
	}
	fs := cmd.Flags()
	target.register(fs)
	fs.StringVar(&node, "node", "", "node name to show (default $"+nodeFromEnv+", else the host name)")
	fs.StringVar(&peer, "peer", "", "only the routes advertised to this peer address")
	fs.StringVar(&family, "family", "", "only this address family: ipv4 or ipv6 (default: both)")
	registerOutput(fs, &output)
	return cmd
}

// routeQuery is what `routes` asks for.
type routeQuery struct {
	table string
	peer  netip.Addr // invalid: every peer
	afi   string     // "": every family
}

// readRoutes reads the routes of q from bgpd, and its sessions (for the local ASes).
func readRoutes(ctx context.Context, runDir string, q routeQuery) ([]vtysh.Route, []vtysh.Session, error) {
	c, err := dialBGPd(ctx, runDir)
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	sessions, err := c.Sessions(ctx)
	if err != nil {
		return nil, nil, err
	}
	afis := []string{"ipv4", "ipv6"}
	if q.afi != "" {
		afis = []string{q.afi}
	}
	var routes []vtysh.Route
	if q.table == tableAvailable {
		views := []string{""}
		for _, s := range sessions {
			if !slices.Contains(views, s.View) {
				views = append(views, s.View)
			}
		}
		for _, v := range views {
			for _, afi := range afis {
				r, err := c.AvailableRoutes(ctx, v, afi)
				if err != nil {
					return nil, nil, err
				}
				routes = append(routes, r...)
			}
		}
		return routes, sessions, nil
	}
	found := !q.peer.IsValid()
	for _, s := range sessions {
		if q.peer.IsValid() && s.Peer != q.peer {
			continue
		}
		found = true
		if s.State != vtysh.StateEstablished {
			continue // nothing is sent on a session that is down
		}
		for _, f := range s.Families {
			if f.SAFI != "unicast" || !slices.Contains(afis, f.AFI) {
				continue
			}
			r, err := c.AdvertisedRoutes(ctx, s.View, f.AFI, s.Peer)
			if err != nil {
				return nil, nil, err
			}
			routes = append(routes, r...)
		}
	}
	if !found {
		return nil, nil, fmt.Errorf("bgpd has no neighbor %s", q.peer)
	}
	return routes, sessions, nil
}

// routeRows makes the rows of routes, in the order bgpd's tables give (instance, peer, family,
// prefix).
func routeRows(node string, routes []vtysh.Route, sessions []vtysh.Session, now time.Time) []routeRow {
	localAS := map[string]uint32{}
	for _, s := range sessions {
		localAS[s.View] = s.LocalAS
	}
	rows := make([]routeRow, 0, len(routes))
	for _, r := range routes {
		row := routeRow{
			Node:             node,
			Instance:         r.View,
			VRouter:          localAS[r.View],
			Prefix:           r.Prefix.String(),
			Family:           r.AFI + "/" + r.SAFI,
			NextHop:          r.NextHop,
			Best:             r.Best,
			Origin:           r.Origin,
			ASPath:           r.ASPath,
			LocalPreference:  r.LocalPref,
			Communities:      r.Communities,
			LargeCommunities: r.LargeCommunities,
			Unresolved:       r.Unresolved,
		}
		if r.LocalAS != 0 {
			row.VRouter = r.LocalAS
		}
		if r.Peer.IsValid() {
			row.Peer = r.Peer.String()
		}
		if !r.LastUpdate.IsZero() {
			age := now.Sub(r.LastUpdate)
			row.Age, row.AgeSeconds = humanDuration(age), int64(max(age, 0)/time.Second)
		}
		rows = append(rows, row)
	}
	return rows
}

// writeRoutesTable writes the rows in the columns of `cilium bgp routes`.
func writeRoutesTable(w io.Writer, table string, rows []routeRow) error {
	if len(rows) == 0 {
		_, err := fmt.Fprintf(w, "no %s routes\n", table)
		return err
	}
	header := []string{"Node", "VRouter", "Peer", "Prefix", "NextHop", "Age", "Attrs"}
	if table == tableAvailable {
		header = []string{"Node", "VRouter", "Prefix", "NextHop", "Age", "Attrs"}
	}
	lines := make([][]string, 0, len(rows))
	for _, r := range rows {
		l := []string{r.Node, strconv.FormatUint(uint64(r.VRouter), 10)}
		if table == tableAdvertised {
			l = append(l, r.Peer)
		}
		prefix := r.Prefix
		if table == tableAvailable && r.Best {
			prefix = "*" + prefix
		}
		lines = append(lines, append(l, prefix, r.NextHop, r.Age, r.attrs()))
	}
	return writeTable(w, header, lines)
}

// attrs is the Attrs column: the path attributes in cilium's notation.
func (r routeRow) attrs() string {
	var b strings.Builder
	origin := map[string]string{"IGP": "i", "EGP": "e", "incomplete": "?"}[r.Origin]
	fmt.Fprintf(&b, "[{Origin: %s} {AsPath: %s}", cmp.Or(origin, r.Origin), r.ASPath)
	if r.LocalPreference != nil {
		fmt.Fprintf(&b, " {LocalPref: %d}", *r.LocalPreference)
	}
	if len(r.Communities) > 0 {
		fmt.Fprintf(&b, " {Communities: %s}", strings.Join(r.Communities, ", "))
	}
	if len(r.LargeCommunities) > 0 {
		fmt.Fprintf(&b, " {LargeCommunity: %s}", strings.Join(r.LargeCommunities, ", "))
	}
	if r.Unresolved != "" {
		fmt.Fprintf(&b, " {Unresolved: %s}", r.Unresolved)
	}
	b.WriteString("]")
	return b.String()
}
