package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/frr-renderer/frr-renderer/internal/translate"
)

// agentFlags are Cilium agent options that change what a node advertises, under Cilium's own
// names and with its defaults (--enable-no-service-endpoints-routable is inputFlags').
type agentFlags struct {
	serviceProxyName      string
	legacyOriginAttribute bool
	ipam                  string
	routerIDAllocation    choice
}

func (f *agentFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.serviceProxyName, "k8s-service-proxy-name", "",
		`the service.kubernetes.io/service-proxy-name of the Services Cilium handles ("": those without the label), as Cilium's agent flag of that name`)
	fs.BoolVar(&f.legacyOriginAttribute, "enable-bgp-legacy-origin-attribute", false,
		"announce LoadBalancer IPs with BGP ORIGIN INCOMPLETE instead of IGP, as Cilium's agent flag of that name")
	fs.StringVar(&f.ipam, "ipam", translate.IPAMClusterPool,
		"Cilium's IPAM mode: PodCIDR advertisements need cluster-pool or kubernetes")
	f.routerIDAllocation = choice{value: translate.RouterIDAllocationDefault, allowed: []string{translate.RouterIDAllocationDefault, translate.RouterIDAllocationIPPool}}
	fs.Var(&f.routerIDAllocation, "bgp-router-id-allocation-mode",
		"router IDs from the node (default) or Cilium's operator's allocation, read from the node's CiliumBGPNodeConfig (ip-pool)")
}

// apply sets the options in o.
func (f *agentFlags) apply(o *translate.Options) {
	o.ServiceProxyName = f.serviceProxyName
	o.LegacyOriginAttribute = f.legacyOriginAttribute
	o.IPAMMode = f.ipam
	o.RouterIDAllocation = f.routerIDAllocation.value
}

// choice is a string flag that takes one of a few values.
type choice struct {
	value   string
	allowed []string
}

func (c *choice) String() string { return c.value }
func (c *choice) Type() string   { return "string" }

func (c *choice) Set(v string) error {
	if !slices.Contains(c.allowed, v) {
		return fmt.Errorf("%q is not one of %s", v, strings.Join(c.allowed, ", "))
	}
	c.value = v
	return nil
}
