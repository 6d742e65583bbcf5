package model

import "testing"

func TestDiagnosticIsOneLine(t *testing.T) {
	tests := []struct {
		name string
		d    Diagnostic
		want string
	}{
		{
			name: "plain names as they are",
			d:    Diagnostic{Severity: Warning, Object: ObjectRef{Kind: "Service", Namespace: "default", Name: "web"}, Field: "spec.externalIPs[0]", Message: `"x" is not an IP address`},
			want: `warning: Service/default/web: spec.externalIPs[0]: "x" is not an IP address`,
		},
		{
			name: "a name with a line break is quoted",
			d:    Diagnostic{Severity: Error, Object: ObjectRef{Kind: "CiliumBGPPeerConfig", Name: "pc\nerror: X/y: forged"}, Message: "bad"},
			want: `error: CiliumBGPPeerConfig/"pc\nerror: X/y: forged": bad`,
		},
		{
			name: "a namespace with a slash or a space is quoted",
			d:    Diagnostic{Severity: Warning, Object: ObjectRef{Kind: "Service", Namespace: "a/b", Name: "c d"}, Message: "m"},
			want: `warning: Service/"a/b"/"c d": m`,
		},
		{
			name: "a message or field left unquoted by mistake stays on its line",
			d:    Diagnostic{Severity: Warning, Object: ObjectRef{Kind: "Node", Name: "n1"}, Field: "metadata.annotations[a\rb]", Message: "value x\nerror: forged\u2028and\x1b[31m"},
			want: `warning: Node/n1: metadata.annotations[a\rb]: value x\nerror: forged\u2028and\x1b[31m`,
		},
		{
			name: "no field",
			d:    Diagnostic{Severity: Error, Object: ObjectRef{Kind: "CiliumNode", Name: "n1"}, Message: "m"},
			want: "error: CiliumNode/n1: m",
		},
		{
			name: "an empty name",
			d:    Diagnostic{Severity: Error, Object: ObjectRef{Kind: "CiliumNode"}, Message: "m"},
			want: `error: CiliumNode/"": m`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.d.String(); got != tt.want {
				t.Errorf("String() =\n  %s\nwant\n  %s", got, tt.want)
			}
		})
	}
}

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"":                 "",
		"plain text: 1/2":  "plain text: 1/2",
		"tab\there":        `tab\there`,
		"a\nb\r\n":         `a\nb\r\n`,
		"ünïcode stays":    "ünïcode stays",
		"sep\u2029arator":  `sep\u2029arator`,
		"nul\x00 del\x7f":  `nul\x00 del\x7f`,
		"c1 \u0085 escape": `c1 \u0085 escape`,
	} {
		if got := OneLine(in); got != want {
			t.Errorf("OneLine(%q) = %q, want %q", in, got, want)
		}
	}
}
