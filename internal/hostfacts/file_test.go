package hostfacts

import (
	"encoding/json"
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

func TestFromFileExample(t *testing.T) {
	path := filepath.Join("testdata", "example.yaml")
	got, err := FromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := model.HostFacts{
		Interfaces: []model.Interface{
			{Name: "lo", AdminUp: true, OperState: "unknown", Addresses: prefixes("127.0.0.1/8", "10.99.0.1/32")},
			{Name: "eth0", AdminUp: true, OperState: "up", HardwareAddr: "52:54:00:12:34:56", Addresses: prefixes("192.168.10.11/24", "fe80::1/64", "fd00:10:0:1::11/64")},
		},
		DefaultRoutes: []model.DefaultRoute{
			{Family: "ipv4", Gateway: netip.MustParseAddr("192.168.10.1"), Metric: 100, Interface: "eth0", LinkUp: true},
			{Family: "ipv6", Gateway: netip.MustParseAddr("fd00:10:0:1::1"), Metric: 100, Interface: "eth0", LinkUp: true},
			{Family: "ipv6", Gateway: netip.MustParseAddr("fd00:10:0:1::2"), Metric: 200, Interface: "eth0", LinkUp: true},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FromFile(%s):\n got %+v\nwant %+v", path, got, want)
	}
}

func TestFromFileMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.yaml")
	if _, err := FromFile(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("FromFile(%s) error = %v, want one naming the file", path, err)
	}
}

// The file format is model.HostFacts' JSON encoding: whatever the model marshals, Parse must
// read back unchanged, or the format and the model have drifted apart.
func TestParseRoundTrip(t *testing.T) {
	facts := model.HostFacts{
		Interfaces: []model.Interface{
			{Name: "eth0", AdminUp: true, OperState: "lowerlayerdown", Addresses: prefixes("10.1.2.3/24", "fe80::1/64")},
			{Name: "eth1", OperState: "down"},
		},
		DefaultRoutes: []model.DefaultRoute{
			{Family: "ipv4", Gateway: netip.MustParseAddr("10.1.2.1"), Metric: 7, Interface: "eth0", LinkUp: true},
			{Family: "ipv6", Interface: "eth1"},
		},
	}
	data, err := json.Marshal(facts)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse("facts.json", data)
	if err != nil {
		t.Fatalf("Parse(%s): %v", data, err)
	}
	if !reflect.DeepEqual(got, facts) {
		t.Errorf("Parse(%s):\n got %+v\nwant %+v", data, got, facts)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    model.HostFacts
		wantErr string // the whole message; empty for success
	}{
		{
			name: "empty file has no facts",
			in:   "",
		},
		{
			name: "JSON indented with tabs",
			in:   "{\n\t\"interfaces\": [\n\t\t{\"name\": \"eth0\", \"operState\": \"up\", \"addresses\": [\"10.0.0.1/8\"]}\n\t]\n}\n",
			want: model.HostFacts{Interfaces: []model.Interface{{Name: "eth0", OperState: "up", Addresses: prefixes("10.0.0.1/8")}}},
		},
		{
			name: "route without gateway",
			in:   "defaultRoutes:\n- {family: ipv4, interface: ppp0, metric: 5}\n",
			want: model.HostFacts{DefaultRoutes: []model.DefaultRoute{{Family: "ipv4", Interface: "ppp0", Metric: 5}}},
		},
		{
			name: "hardware address",
			in:   "interfaces:\n- {name: cilium_host, operState: up, hardwareAddr: '0a:1b:2c:3d:4e:5f'}\n",
			want: model.HostFacts{Interfaces: []model.Interface{{Name: "cilium_host", OperState: "up", HardwareAddr: "0a:1b:2c:3d:4e:5f"}}},
		},
		{
			name:    "bad hardware address",
			in:      "interfaces:\n- {name: eth0, operState: up, hardwareAddr: 'zz:00'}\n",
			wantErr: `host.yaml: interfaces[0].hardwareAddr: "zz:00" is not a link-layer address (aa:bb:cc:dd:ee:ff)`,
		},
		{
			name:    "unknown top-level field",
			in:      "interfaces: []\nroutes: []\n",
			wantErr: `host.yaml: json: unknown field "routes"`,
		},
		{
			name:    "unknown interface field",
			in:      "interfaces:\n- {name: lo, operState: unknown}\n- {name: eth0, operState: up, mtu: 1500}\n",
			wantErr: `host.yaml: interfaces[1]: json: unknown field "mtu"`,
		},
		{
			name:    "unknown route field",
			in:      "defaultRoutes:\n- {family: ipv4, gw: 10.0.0.1}\n",
			wantErr: `host.yaml: defaultRoutes[0]: json: unknown field "gw"`,
		},
		{
			name:    "duplicate field",
			in:      "defaultRoutes:\n- {family: ipv4, metric: 1, metric: 2}\n",
			wantErr: "host.yaml: yaml: unmarshal errors:\n  line 2: key \"metric\" already set in map",
		},
		{
			name:    "bad family",
			in:      "defaultRoutes:\n- {family: ipv4, gateway: 10.0.0.1}\n- {family: ipv5, gateway: 10.0.0.1}\n",
			wantErr: `host.yaml: defaultRoutes[1].family: "ipv5" is not ipv4 or ipv6`,
		},
		{
			name:    "missing family",
			in:      "defaultRoutes:\n- {gateway: 10.0.0.1}\n",
			wantErr: `host.yaml: defaultRoutes[0].family: "" is not ipv4 or ipv6`,
		},
		{
			name:    "IPv6 gateway on an IPv4 route",
			in:      "defaultRoutes:\n- {family: ipv4, gateway: 'fd00::1'}\n",
			wantErr: `host.yaml: defaultRoutes[0].gateway: fd00::1 is not an ipv4 address`,
		},
		{
			name:    "IPv4 gateway on an IPv6 route",
			in:      "defaultRoutes:\n- {family: ipv6, gateway: 10.0.0.1}\n",
			wantErr: `host.yaml: defaultRoutes[0].gateway: 10.0.0.1 is not an ipv6 address`,
		},
		{
			name:    "bad gateway",
			in:      "defaultRoutes:\n- {family: ipv4, gateway: 10.0.0.256}\n",
			wantErr: `host.yaml: defaultRoutes[0]: ParseAddr("10.0.0.256"): IPv4 field has value >255`,
		},
		{
			name:    "prefix length out of range",
			in:      "interfaces:\n- {name: eth0, operState: up, addresses: [10.0.0.1/33]}\n",
			wantErr: `host.yaml: interfaces[0]: netip.ParsePrefix("10.0.0.1/33"): prefix length out of range`,
		},
		{
			name:    "address without prefix length",
			in:      "interfaces:\n- {name: eth0, operState: up, addresses: [10.0.0.1]}\n",
			wantErr: `host.yaml: interfaces[0]: netip.ParsePrefix("10.0.0.1"): no '/'`,
		},
		{
			name:    "empty prefix",
			in:      "interfaces:\n- {name: eth0, operState: up, addresses: [10.0.0.1/8, '']}\n",
			wantErr: `host.yaml: interfaces[0].addresses[1]: empty prefix`,
		},
		{
			name:    "empty name",
			in:      "interfaces:\n- {name: lo, operState: unknown}\n- {operState: up}\n",
			wantErr: `host.yaml: interfaces[1].name: must not be empty`,
		},
		{
			name:    "duplicate name",
			in:      "interfaces:\n- {name: eth0, operState: up}\n- {name: eth0, operState: down}\n",
			wantErr: `host.yaml: interfaces[1].name: "eth0" is already interfaces[0]`,
		},
		{
			name:    "oper state in upper case",
			in:      "interfaces:\n- {name: eth0, operState: UP}\n",
			wantErr: `host.yaml: interfaces[0].operState: "UP" is not a kernel operational state`,
		},
		{
			name:    "negative metric",
			in:      "defaultRoutes:\n- {family: ipv4, metric: -1}\n",
			wantErr: `host.yaml: defaultRoutes[0]: json: cannot unmarshal number -1 into Go struct field DefaultRoute.metric of type uint32`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("host.yaml", []byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("Parse error = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func prefixes(ss ...string) []netip.Prefix {
	if len(ss) == 0 {
		return nil // as FromHandle reports an interface without addresses
	}
	ps := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		ps[i] = netip.MustParsePrefix(s)
	}
	return ps
}
