package manifest

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// blockYAMLCases are documents the block decoder must read as the YAML parser does (accepted)
// or leave to it (refused).
var blockYAMLCases = []struct {
	name     string
	doc      string
	accepted bool
}{
	{"service", "apiVersion: v1\nkind: Service\nmetadata:\n  name: a # the name\n  labels:\n    app.kubernetes.io/name: web\nspec:\n  ports:\n  - protocol: TCP\n    port: 80\n    targetPort: 8080\n  clusterIP: 10.96.0.1\nstatus:\n  loadBalancer:\n    ingress:\n    - ip: 172.20.0.1\n", true},
	{"sequence at its key's indent, then a key", "a:\n- x\n- y\nb: 1\n", true},
	{"sequence indented, items of mappings", "a:\n  -   b: 1\n      c:\n      - d\n  -\n    e: f\n  - h\n", true},
	{"YAML 1.1 words and numbers", "a: yes\nb: Off\nc: ~\nd: 0x1F\ne: 0o17\nf: 017\ng: 1_000\nh: -0b101\ni: 1e3\nj: .5\nk: .inf\nl: 2001-12-14\nm: 18446744073709551615\nnn: 1.2.3.4\no: +12\np: 0b102\nq: -1.5e-3\nr: 9223372036854775808\n", true},
	{"quoted", "a: 'it''s'   # c\nb: \"x: y\"\nc: ''\nd: \"\"\ne: '#'\n", true},
	{"empty collections and nulls", "a: {}\nb: []\nc:\nd: [] # c\n", true},
	{"flow sequences of scalars", "a: [10.0.0.0/24, 'x', \"y\" ,1, yes, ~ ] # c\nb:\n- [a,b]\nc: [ ]\n", true},
	{"flow mappings", "metadata: {name: a, labels: {app: web, tier: ''}}\nspec:\n  ports: [{port: 80, protocol: TCP}, {}]\n  x: { a: [ [1], {b: c} ] }\n", true},
	{"flow, then a comment", "a: {b: 1} # c\nb: [1]  #c\n", true},
	{"flow, then a comment without a space", "a: [1]#c\n", false},
	{"flow sequence with a trailing comma", "a: [x, ]\n", false},
	{"flow mapping with a trailing comma", "a: {x: 1,}\n", false},
	{"flow pair in a sequence", "a: [x: 1]\n", false},
	{"flow key without a space", "a: {x:1}\n", false},
	{"flow key without a value", "a: {x: }\n", false},
	{"flow key set twice", "a: {x: 1, x: 2}\n", false},
	{"flow quoted key", "a: {'x': 1}\n", false},
	{"flow doubled quote", "a: ['it''s']\n", false},
	{"flow on lines", "a: [x,\n  y]\n", false},
	{"flow, text after", "a: [x] y\n", false},
	{"flow, brackets crossed", "a: [x}\n", false},
	{"flow, comment inside", "a: [x #c\n  ]\n", false},
	{"flow too deep", "a: " + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + "\n", false},
	{"plain with indicators inside", "a: b#c\nb: x,y[z]{w}\nc: -d\nd: ?e\ne: :f\nf: a:b\ng: http://x/y?z=1\n", true},
	{"comments and blank lines anywhere", "# head\n\na:   # after a key\n\n  # indented\n  b: 1\n#end\n", true},

	{"anchor", "a: &x 1\nb: *x\n", false},
	{"tag", "a: !!str 1\n", false},
	{"block scalar", "a: |\n  x\n", false},
	{"multi-line plain", "a: x\n  y\n", false},
	{"scalar below its key", "a:\n  x\n", false},
	{"scalar below a dash", "a:\n- # c\n  g\n", false},
	{"key set twice", "a: 1\na: 2\n", false},
	{"word key", "on: 1\n", false},
	{"long key", strings.Repeat("k", 1100) + ": 1\n", false},
	{"number key", "80: http\n", false},
	{"quoted key", "'a': 1\n", false},
	{"tab", "a:\t1\n", false},
	{"carriage return", "a: 1\r\n", false},
	{"not ASCII", "a: é\n", false},
	{"escape", "a: \"\\n\"\n", false},
	{"quote left open", "a: 'x\n  y'\n", false},
	{"text after a quote", "a: 'x' y\n", false},
	{"sequence at the root", "- a\n", false},
	{"indented root", "  a: 1\n", false},
	{"sequence on a dash's line", "a:\n- - x\n", false},
	{"mapping value on a key's line", "a: b: c\n", false},
	{"ends with a colon", "a: b:\n", false},
	{"dash value", "a: -\n", false},
	{"directive", "%YAML 1.1\n---\na: 1\n", false},
	{"document end", "a: 1\n...\n", false},
	{"odd indent back", "a:\n    b: 1\n  c: 2\n", false},
	{"too deep", deepMapping(MaxDepth + 1), false},
	{"as deep as allowed", deepMapping(MaxDepth), true},
}

func deepMapping(depth int) string {
	var sb strings.Builder
	for i := range depth - 1 {
		fmt.Fprintf(&sb, "%sa:\n", strings.Repeat(" ", i))
	}
	fmt.Fprintf(&sb, "%sa: 1\n", strings.Repeat(" ", depth-1))
	return sb.String()
}

func TestBlockYAML(t *testing.T) {
	for _, tc := range blockYAMLCases {
		t.Run(tc.name, func(t *testing.T) {
			_, accepted := decodeBlockYAML([]byte(tc.doc))
			if accepted != tc.accepted {
				t.Errorf("block decoder accepted %v, want %v, for\n%s", accepted, tc.accepted, tc.doc)
			}
			checkBlockYAML(t, []byte(tc.doc))
		})
	}
}

// TestBlockYAMLSeed: the seed's manifests are read by the block decoder, so that the common
// case is fast, and as the parser reads them.
func TestBlockYAMLSeed(t *testing.T) {
	files, err := filepath.Glob("../../examples/seed/*/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no seed manifests (err %v)", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range documents(data) {
			if blank(doc) {
				continue
			}
			if _, ok := decodeBlockYAML(doc); !ok {
				t.Errorf("%s document %d: left to the parser", f, i+1)
			}
			checkBlockYAML(t, doc)
		}
	}
}

// FuzzBlockYAML holds the block decoder to the parser: what it accepts, the parser reads too,
// as the same values.
func FuzzBlockYAML(f *testing.F) {
	for _, tc := range blockYAMLCases {
		f.Add([]byte(tc.doc))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		checkBlockYAML(t, doc)
		if tr, err := parseYAML(doc); err == nil {
			checkMarshalTree(t, tr.root)
		}
	})
}

// checkMarshalTree fails when marshalTree and json.Marshal disagree on v.
func checkMarshalTree(t *testing.T, v any) {
	t.Helper()
	got, gotErr := marshalTree(v)
	want, wantErr := json.Marshal(v)
	if (gotErr != nil) != (wantErr != nil) || string(got) != string(want) {
		t.Fatalf("marshalTree(%#v) = %s, %v; json.Marshal: %s, %v", v, got, gotErr, want, wantErr)
	}
}

func TestMarshalTree(t *testing.T) {
	for _, v := range []any{
		nil, true, "", "a<b>&\"\\\n\u2028\xff", 1, int64(-1) << 62, uint64(1) << 63, 1.5, 1e21, 1e-7, math.NaN(), math.Inf(-1),
		map[string]any{"b": []any{}, "a": map[string]any{}, "": []any{nil, 2.0}},
	} {
		checkMarshalTree(t, v)
	}
}

// checkBlockYAML fails when the block decoder accepts doc and the parser refuses it or reads
// other values.
func checkBlockYAML(t *testing.T, doc []byte) {
	t.Helper()
	got, ok := decodeBlockYAML(doc)
	if !ok {
		return
	}
	want, err := parseYAML(doc)
	if err != nil {
		t.Fatalf("block decoder accepted what the parser refuses (%v):\n%s", err, doc)
	}
	if len(want.duplicates) > 0 {
		t.Fatalf("block decoder accepted a key set twice:\n%s", doc)
	}
	// %#v tells int from int64 and prints maps sorted; NaN prints as NaN.
	if g, w := fmt.Sprintf("%#v", got), fmt.Sprintf("%#v", want.root); g != w {
		t.Fatalf("block decoder read\n%s\nas\n%s\nthe parser as\n%s", doc, g, w)
	}
}
