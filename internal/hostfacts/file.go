package hostfacts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"

	"sigs.k8s.io/yaml"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// FromFile reads facts from a YAML (or JSON) file; unknown fields are an error (strict),
// naming the file and the field.
func FromFile(path string) (model.HostFacts, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return model.HostFacts{}, fmt.Errorf("host facts: %w", err)
	}
	return Parse(path, data)
}

// Parse is FromFile on bytes (name for errors).
func Parse(name string, data []byte) (model.HostFacts, error) {
	// Duplicate keys are an error too: with two "metric"s, which one did the author mean?
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return model.HostFacts{}, fmt.Errorf("%s: %w", name, err)
	}
	// The entries are decoded one by one so that an error can say which entry it is in:
	// encoding/json names neither the index nor the path of an unknown field or a bad value.
	var raw struct {
		Interfaces    []json.RawMessage `json:"interfaces"`
		DefaultRoutes []json.RawMessage `json:"defaultRoutes"`
	}
	if err := decodeStrict(js, &raw); err != nil {
		return model.HostFacts{}, fmt.Errorf("%s: %w", name, err)
	}
	var facts model.HostFacts
	seen := make(map[string]int, len(raw.Interfaces))
	for i, m := range raw.Interfaces {
		var iface model.Interface
		if err := decodeStrict(m, &iface); err != nil {
			return model.HostFacts{}, fmt.Errorf("%s: interfaces[%d]: %w", name, i, err)
		}
		if err := checkInterface(iface, seen); err != nil {
			return model.HostFacts{}, fmt.Errorf("%s: interfaces[%d].%w", name, i, err)
		}
		seen[iface.Name] = i
		facts.Interfaces = append(facts.Interfaces, iface)
	}
	for i, m := range raw.DefaultRoutes {
		var r model.DefaultRoute
		if err := decodeStrict(m, &r); err != nil {
			return model.HostFacts{}, fmt.Errorf("%s: defaultRoutes[%d]: %w", name, i, err)
		}
		if err := checkDefaultRoute(r); err != nil {
			return model.HostFacts{}, fmt.Errorf("%s: defaultRoutes[%d].%w", name, i, err)
		}
		facts.DefaultRoutes = append(facts.DefaultRoutes, r)
	}
	return facts, nil
}

func decodeStrict(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

// knownOperStates are the states the kernel reports; anything else in a file is a typo that
// would otherwise read as "not up".
var knownOperStates = map[string]bool{
	"up": true, "down": true, "unknown": true, "lowerlayerdown": true,
	"dormant": true, "notpresent": true, "testing": true,
}

// checkInterface's errors start with the field name, for the caller to prefix with the entry.
func checkInterface(iface model.Interface, seen map[string]int) error {
	if iface.Name == "" {
		return fmt.Errorf("name: must not be empty")
	}
	if j, dup := seen[iface.Name]; dup {
		return fmt.Errorf("name: %q is already interfaces[%d]", iface.Name, j)
	}
	if !knownOperStates[iface.OperState] {
		return fmt.Errorf("operState: %q is not a kernel operational state (up, down, unknown, lowerlayerdown, dormant, notpresent, testing)", iface.OperState)
	}
	if iface.HardwareAddr != "" {
		if _, err := net.ParseMAC(iface.HardwareAddr); err != nil {
			return fmt.Errorf("hardwareAddr: %q is not a link-layer address (aa:bb:cc:dd:ee:ff)", iface.HardwareAddr)
		}
	}
	for k, p := range iface.Addresses {
		// netip.Prefix decodes "" as the zero Prefix without complaint.
		if !p.IsValid() {
			return fmt.Errorf("addresses[%d]: empty prefix", k)
		}
	}
	return nil
}

// checkDefaultRoute's errors start with the field name, for the caller to prefix with the entry.
func checkDefaultRoute(r model.DefaultRoute) error {
	var v4 bool
	switch r.Family {
	case "ipv4":
		v4 = true
	case "ipv6":
	default:
		return fmt.Errorf("family: %q is not ipv4 or ipv6", r.Family)
	}
	// A missing gateway is a fact (a route out of a device), not an error: the translator
	// decides what it is worth.
	if r.Gateway.IsValid() && r.Gateway.Is4() != v4 {
		return fmt.Errorf("gateway: %s is not an %s address", r.Gateway, r.Family)
	}
	return nil
}
