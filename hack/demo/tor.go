package main

// What the demo waits for and shows: the ToR's view, read as the tests read it (FRR's JSON,
// `ip -j route`).

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"
)

// wait is a condition to wait for: check is called every interval until it succeeds.
type wait struct {
	what           string
	timeout, every time.Duration
	check          func() error
}

// waitAll waits for each condition in turn, and returns when each was met, counted from since.
func (d *demo) waitAll(ctx context.Context, since time.Time, waits ...wait) ([]time.Duration, error) {
	var took []time.Duration
	for _, w := range waits {
		if err := d.waitFor(ctx, w); err != nil {
			return nil, err
		}
		took = append(took, time.Since(since))
	}
	return took, nil
}

// waitFor fails with w.check's last error once w.timeout has passed, and at once when an
// frr-renderer has exited or the demo is interrupted.
func (d *demo) waitFor(ctx context.Context, w wait) error {
	deadline := time.Now().Add(w.timeout)
	for {
		for _, n := range d.nodes {
			if n.renderer != nil && n.renderer.exited() {
				return fmt.Errorf("frr-renderer run --node %s exited early (log: %s)", n.name, n.renderer.log)
			}
		}
		err := w.check()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v waiting for %s: %w", w.timeout, w.what, err)
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(w.every):
		}
	}
}

func (d *demo) nodeAddrs() []string {
	var addrs []string
	for _, n := range d.nodes {
		addrs = append(addrs, n.addr)
	}
	slices.Sort(addrs)
	return addrs
}

// sessionsUp succeeds once the ToR's Established peers are the three nodes.
func (d *demo) sessionsUp() error {
	var sum struct {
		Peers map[string]struct {
			State string `json:"state"`
		} `json:"peers"`
	}
	if err := d.tor.ShowJSON("show bgp ipv4 unicast summary json", &sum); err != nil {
		return err
	}
	var up []string
	for addr, p := range sum.Peers {
		if p.State == "Established" {
			up = append(up, addr)
		}
	}
	slices.Sort(up)
	if !slices.Equal(up, d.nodeAddrs()) {
		return fmt.Errorf("the ToR's Established peers are %v, want %v", up, d.nodeAddrs())
	}
	return nil
}

// bgpVia returns a check that the ToR's BGP paths to ip/32 have exactly the next hops want
// (none: no route).
func (d *demo) bgpVia(ip string, want []string) func() error {
	return func() error {
		var route struct {
			Paths []struct {
				Nexthops []struct {
					IP string `json:"ip"`
				} `json:"nexthops"`
			} `json:"paths"`
		}
		if err := d.tor.ShowJSON("show bgp ipv4 unicast "+ip+"/32 json", &route); err != nil {
			return err
		}
		got := map[string]bool{}
		for _, p := range route.Paths {
			for _, nh := range p.Nexthops {
				got[nh.IP] = true
			}
		}
		return sameHops("BGP paths to "+ip+"/32", slices.Sorted(maps.Keys(got)), want)
	}
}

// kernelVia returns a check that the ToR's kernel routes ip through exactly the next hops
// want (none: no route).
func (d *demo) kernelVia(ip string, want []string) func() error {
	return func() error {
		out, err := d.tor.Exec("ip", "-j", "route", "show", ip)
		if err != nil {
			return err
		}
		var routes []struct {
			Gateway  string `json:"gateway"`
			Nexthops []struct {
				Gateway string `json:"gateway"`
			} `json:"nexthops"`
		}
		if err := json.Unmarshal([]byte(out), &routes); err != nil {
			return fmt.Errorf("ip -j route show %s: %w\n%s", ip, err, out)
		}
		var got []string
		for _, r := range routes {
			if r.Gateway != "" {
				got = append(got, r.Gateway)
			}
			for _, nh := range r.Nexthops {
				got = append(got, nh.Gateway)
			}
		}
		slices.Sort(got)
		return sameHops("kernel routes to "+ip, got, want)
	}
}

func sameHops(what string, got, want []string) error {
	if !slices.Equal(got, want) {
		return fmt.Errorf("%s via %v, want %v", what, got, want)
	}
	return nil
}

// torShow prints a vtysh command on the ToR and its output.
func (d *demo) torShow(cmd string) {
	out, err := d.tor.Vtysh("-c", cmd)
	if err != nil {
		out = err.Error()
	}
	d.shell(fmt.Sprintf("vtysh -N %s -c '%s'", d.tor.Netns, cmd), out)
}

// torRoutes prints the ToR kernel's routes to each of ips: the next hops.
func (d *demo) torRoutes(ips ...string) {
	var cmd, all string
	for i, ip := range ips {
		if i > 0 {
			cmd += "; "
		}
		cmd += fmt.Sprintf("ip -n %s route show %s", d.tor.Netns, ip)
		out, err := d.tor.Exec("ip", "route", "show", ip)
		if err != nil {
			out = err.Error()
		}
		all += out
	}
	d.shell(cmd, all)
}
