package main

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/frr-renderer/frr-renderer/internal/frrtest"
	"github.com/frr-renderer/frr-renderer/internal/manifest/manifesttest"
)

// The seed's node cp-1 and its ToR (examples/seed/tor-frr.conf) on one segment.
const (
	seedNode    = "cp-1"
	seedNodeIP  = "192.168.10.11"
	seedToRIP   = "192.168.10.1"
	seedLBIP    = "172.20.0.1"
	seedSvcFile = "05-http-test.yaml"
	seedAdvFile = "03-advertisement.yaml"
)

// seedWithAttributes is a copy of the seed whose advertisement sets communities and a local
// preference (which an eBGP peer never receives).
func seedWithAttributes(t *testing.T) string {
	dir := manifesttest.SeedCopy(t)
	manifesttest.Edit(t, filepath.Join(dir, seedAdvFile), "      - LoadBalancerIP\n",
		"      - LoadBalancerIP\n    attributes:\n      communities:\n        standard: [\"65000:100\", \"no-export\"]\n        large: [\"65000:1:1\"]\n      localPreference: 200\n")
	return dir
}

// TestOperatorCommandsOnFRR runs peers, routes and diff against a real FRR (8.4 and 10.3) that
// `apply` configured with the seed, peered with the seed's ToR: their table and JSON output are
// golden (uptimes and ages replaced), and what they say is what the ToR sees.
func TestOperatorCommandsOnFRR(t *testing.T) {
	for _, v := range frrtest.Supported() {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			frrtest.Require(t, v)
			tor := frrtest.Start(t, v, "opstor")
			node := frrtest.Start(t, v, "opsnode")
			frrtest.Link(t, node, tor, netip.MustParsePrefix(seedNodeIP+"/24"), netip.MustParsePrefix(seedToRIP+"/24"))
			torConf, err := os.ReadFile("../../examples/seed/tor-frr.conf")
			if err != nil {
				t.Fatal(err)
			}
			if err := tor.Load(string(torConf)); err != nil {
				t.Fatalf("the ToR rejected tor-frr.conf: %v", err)
			}
			version := map[frrtest.Version]string{frrtest.FRR8: "8", frrtest.FRR10: "10"}[v]
			dir := seedWithAttributes(t)
			facts := writeFile(t, "facts.yaml", "{}\n")
			target := []string{"--vty-socket", node.RunDir()}
			input := []string{"--node", seedNode, "-f", dir, "--host-facts", facts, "--frr-version", version}

			// diff before anything runs: every line is new.
			out, errOut, code := runCmd(t, "", slices.Concat([]string{"diff"}, input, target)...)
			if code != exitDiffChanges || !strings.Contains(out, "+router bgp 65001\n") || !strings.Contains(out, "# apply would send these") {
				t.Fatalf("diff on an empty bgpd: exit %d\n%s\n%s", code, out, errOut)
			}
			if out, errOut, code := runCmd(t, "", slices.Concat([]string{"apply"}, input, target)...); code != 0 {
				t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
			}
			out, errOut, code = runCmd(t, "", slices.Concat([]string{"diff"}, input, target)...)
			if code != 0 || out != "no change\n" {
				t.Fatalf("diff after apply: exit %d\n%s\n%s", code, out, errOut)
			}

			var torRoute struct {
				Paths []struct {
					ASPath         struct{ String string } `json:"aspath"`
					Nexthops       []struct{ IP string }   `json:"nexthops"`
					Community      struct{ List []string } `json:"community"`
					LargeCommunity struct{ List []string } `json:"largeCommunity"`
					LocPrf         *uint32                 `json:"locPrf"`
				} `json:"paths"`
			}
			frrtest.WaitFor(t, 30*time.Second, func() error {
				if err := tor.ShowJSON("show bgp ipv4 unicast "+seedLBIP+"/32 json", &torRoute); err != nil {
					return err
				}
				if len(torRoute.Paths) == 0 {
					return fmt.Errorf("the ToR has no route to %s yet", seedLBIP)
				}
				return nil
			})

			cmds := []struct {
				name string
				args []string
			}{
				{"peers", []string{"peers"}},
				{"routes-advertised", []string{"routes", "advertised"}},
				{"routes-advertised-peer", []string{"routes", "advertised", "--peer", seedToRIP, "--family", "ipv4"}},
				{"routes-available", []string{"routes", "available"}},
			}
			for _, c := range cmds {
				for _, format := range []string{"table", "json"} {
					args := slices.Concat(c.args, target, []string{"--node", seedNode, "-o", format})
					out, errOut, code := runCmd(t, "", args...)
					if code != 0 {
						t.Fatalf("%v: exit %d\n%s", args, code, errOut)
					}
					checkGolden(t, fmt.Sprintf("frr/%s-%s.%s", c.name, v, map[string]string{"table": "txt", "json": "json"}[format]),
						normalizeTimes(out, format == "table"))
				}
			}

			// What routes says is sent is what the ToR received.
			out, _, _ = runCmd(t, "", slices.Concat([]string{"routes", "-o", "json"}, target)...)
			var rows []routeRow
			if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 1 {
				t.Fatalf("routes -o json: %v\n%s", err, out)
			}
			got := torRoute.Paths[0]
			if !slices.Equal(rows[0].Communities, got.Community.List) || !slices.Equal(rows[0].LargeCommunities, got.LargeCommunity.List) {
				t.Errorf("routes says %v %v are sent; the ToR has %v %v", rows[0].Communities, rows[0].LargeCommunities, got.Community.List, got.LargeCommunity.List)
			}
			if rows[0].ASPath != got.ASPath.String || len(got.Nexthops) == 0 || rows[0].NextHop != got.Nexthops[0].IP {
				t.Errorf("routes says AS path %q next hop %s are sent; the ToR has %q %v", rows[0].ASPath, rows[0].NextHop, got.ASPath.String, got.Nexthops)
			}
			if rows[0].LocalPreference != nil {
				t.Errorf("routes says local preference %d is sent to an eBGP peer", *rows[0].LocalPreference)
			}

			// A new LoadBalancer IP: diff shows the change and the lines apply sends.
			manifesttest.Edit(t, filepath.Join(dir, seedSvcFile), "- ip: "+seedLBIP, "- ip: 172.20.0.9")
			out, errOut, code = runCmd(t, "", slices.Concat([]string{"diff"}, input, target)...)
			if code != exitDiffChanges {
				t.Fatalf("diff after an edit: exit %d\n%s\n%s", code, out, errOut)
			}
			checkGolden(t, fmt.Sprintf("frr/diff-lb-ip-%s.txt", v), strings.ReplaceAll(out, node.RunDir(), "RUNDIR"))
		})
	}
}
