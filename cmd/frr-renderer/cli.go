package main

// What the subcommands share: the root command, exit codes, the flags that several commands
// take (the input to render, the FRR to talk to, the output format) and the logger.

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/frr-renderer/frr-renderer/internal/translate"
	"github.com/frr-renderer/frr-renderer/internal/version"
)

// Exit codes, as the README documents them.
const (
	exitOK      = 0
	exitFailure = 1 // the command could not do its job (input unusable, FRR unreachable, ...)
	exitUsage   = 2 // the command line is wrong
	// diff only, like diff(1): 0 no change, 1 changes, 2 trouble.
	exitDiffChanges = 1
	exitDiffTrouble = 2
)

// streams are the command's standard input, output and error.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

// exitError is an error with the exit code it calls for. An error a command returns that is
// not one is a usage error: cobra's own (unknown command or flag, bad flag value).
type exitError struct {
	code int
	err  error
	// printed: the command has already told the user; exitCode prints nothing more.
	printed bool
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

func failure(err error) error { return &exitError{code: exitFailure, err: err} }

func failuref(format string, args ...any) error { return failure(fmt.Errorf(format, args...)) }

// silentExit ends the command with code, having said everything already.
func silentExit(code int) error {
	return &exitError{code: code, err: fmt.Errorf("exit %d", code), printed: true}
}

// exitCode prints err (prefixed by the command's name) and returns the code it calls for.
func exitCode(cmd *cobra.Command, err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	name := "frr-renderer"
	if cmd != nil && cmd.HasParent() {
		name = cmd.Name()
	}
	var ee *exitError
	if !errors.As(err, &ee) {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", commandPath(cmd))
		return exitUsage
	}
	if !ee.printed {
		fmt.Fprintf(stderr, "%s: %v\n", name, ee.err)
		if ee.code == exitUsage {
			fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", commandPath(cmd))
		}
	}
	return ee.code
}

func commandPath(cmd *cobra.Command) string {
	if cmd == nil {
		return "frr-renderer"
	}
	return cmd.CommandPath()
}

// noArgs refuses positional arguments with a usage error.
func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("unexpected argument %q", args[0])
	}
	return nil
}

func newRootCommand(s *streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "frr-renderer",
		Short: "Cilium BGP Control Plane v2 resources -> FRR",
		Long: `frr-renderer runs FRR as the BGP speaker of a Cilium cluster: it reads Cilium's BGP
Control Plane v2 resources (CiliumBGPClusterConfig, CiliumBGPPeerConfig, CiliumBGPAdvertisement,
CiliumBGPNodeConfigOverride), renders the node's frr.conf and applies it live to the FRR beside it.`,
		Example: `  frr-renderer render --node worker-1 -f manifests/
  frr-renderer diff --node worker-1 -f manifests/ --pathspace demo
  frr-renderer peers
  frr-renderer routes advertised --peer 192.168.10.1
  frr-renderer explain --node worker-1 -f manifests/ 172.20.0.1`,
		Version:       version.Get(),
		SilenceErrors: true,
		SilenceUsage:  true,
		// With no subcommand: the usage, on stderr, as a usage error.
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf("unknown command %q", args[0])
			}
			cmd.SetOut(s.err)
			_ = cmd.Usage()
			return silentExit(exitUsage)
		},
	}
	root.SetIn(s.in)
	root.SetOut(s.out)
	root.SetErr(s.err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErrorf("%v", err) })
	root.CompletionOptions.HiddenDefaultCmd = true
	root.AddCommand(
		newRenderCommand(s),
		newApplyCommand(s),
		newRunCommand(s),
		newDiffCommand(s),
		newPeersCommand(s),
		newRoutesCommand(s),
		newExplainCommand(s),
		newVersionCommand(s),
	)
	return root
}

// nodeFromEnv is the environment variable --node falls back to: the DaemonSet sets it from the
// pod's spec.nodeName.
const nodeFromEnv = "NODE_NAME"

// inputFlags are the flags that say what to render: the manifests, the node, its host facts.
type inputFlags struct {
	node       string
	paths      []string
	hostFacts  string
	secretsNS  string
	frrVersion string
	// noEndpointsRoutable is Cilium's enable-no-service-endpoints-routable: Services without
	// a serving endpoint are announced.
	noEndpointsRoutable bool
	agent               agentFlags
}

func (f *inputFlags) register(fs *pflag.FlagSet, fileHelp string) {
	fs.StringVar(&f.node, "node", "", "node to render for (default $"+nodeFromEnv+")")
	fs.StringArrayVarP(&f.paths, "file", "f", nil, fileHelp)
	fs.StringVar(&f.hostFacts, "host-facts", "", "YAML file with the host's interfaces and default routes (default: read this host through netlink)")
	fs.StringVar(&f.secretsNS, "secrets-namespace", translate.DefaultSecretsNamespace, "namespace of the Secrets that authSecretRef names")
	fs.StringVar(&f.frrVersion, "frr-version", "10", "FRR version to write for: 10 (the deploy image) or 8 (Debian 12)")
	fs.BoolVar(&f.noEndpointsRoutable, "enable-no-service-endpoints-routable", true, "announce Services that have no serving endpoint, as Cilium's agent flag of that name")
	f.agent.register(fs)
}

// options are the translation options of the flags, for node.
func (f *inputFlags) options(node string) translate.Options {
	o := translate.Options{Node: node, SecretsNamespace: f.secretsNS, SkipServicesWithoutEndpoints: !f.noEndpointsRoutable}
	f.agent.apply(&o)
	return o
}

// nodeName is --node, else $NODE_NAME.
func (f *inputFlags) nodeName() string {
	if f.node != "" {
		return f.node
	}
	return os.Getenv(nodeFromEnv)
}

func (f *inputFlags) dialect() (frrconfig.Dialect, error) {
	d, err := frrconfig.ParseDialect(f.frrVersion)
	if err != nil {
		return d, usageErrorf("%v", err)
	}
	return d, nil
}

// frrRunRoot is FRR's run directory; a pathspace (-N NAME) has a folder of its own in it.
const frrRunRoot = "/var/run/frr"

// frrFlags say which FRR to talk to.
type frrFlags struct {
	pathspace, vtySocket string
}

func (f *frrFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.pathspace, "pathspace", "", "FRR pathspace (-N NAME) of the FRR to talk to: its sockets are in "+frrRunRoot+"/NAME")
	fs.StringVar(&f.vtySocket, "vty-socket", "", "directory of FRR's vty sockets and pid files (overrides --pathspace; default "+frrRunRoot+")")
}

// runDir is the directory of bgpd's vty socket: --vty-socket, else FRR's run directory of the
// pathspace.
func (f *frrFlags) runDir() (string, error) {
	p := f.pathspace
	if p != "" && (strings.ContainsRune(p, '/') || p == "." || p == "..") {
		return "", usageErrorf("--pathspace %q is not a plain name", p)
	}
	switch {
	case f.vtySocket != "":
		return f.vtySocket, nil
	case p != "":
		return filepath.Join(frrRunRoot, p), nil
	}
	return frrRunRoot, nil
}

// outputFormat is -o: table (for people), json or yaml (for programs).
type outputFormat string

const (
	outputTable outputFormat = "table"
	outputJSON  outputFormat = "json"
	outputYAML  outputFormat = "yaml"
)

func (o *outputFormat) String() string { return string(*o) }
func (o *outputFormat) Type() string   { return "table|json|yaml" }
func (o *outputFormat) Set(v string) error {
	switch outputFormat(v) {
	case outputTable, outputJSON, outputYAML:
		*o = outputFormat(v)
		return nil
	}
	return fmt.Errorf("%q is not one of table, json, yaml", v)
}

func registerOutput(fs *pflag.FlagSet, o *outputFormat) {
	*o = outputTable
	fs.VarP(o, "output", "o", "output format: table, json or yaml")
}

// logFlags configure the logger of the long-running and the acting commands.
type logFlags struct {
	verbosity int
	format    string
}

func (f *logFlags) register(fs *pflag.FlagSet) {
	fs.IntVarP(&f.verbosity, "verbosity", "v", 0, "log verbosity: 0 changes and problems, 1 every render, 2 every signal")
	fs.StringVar(&f.format, "log-format", "auto", "log format: text, json, or auto (text on a terminal, JSON otherwise)")
}

func (f *logFlags) check() error {
	switch f.format {
	case "auto", "text", "json":
		return nil
	}
	return usageErrorf("--log-format %q is not one of text, json, auto", f.format)
}

// logger logs to w in the chosen format; verbosity v enables logr's V(0) to V(v). A record of
// V(n), n > 0, has level "V<n>" (slog would say DEBUG+<4-n>).
func (f *logFlags) logger(w io.Writer) logr.Logger {
	opts := &slog.HandlerOptions{
		Level: slog.Level(-f.verbosity),
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if l, ok := a.Value.Any().(slog.Level); ok && len(groups) == 0 && a.Key == slog.LevelKey && l < slog.LevelInfo && l > slog.LevelDebug {
				a.Value = slog.StringValue(fmt.Sprintf("V%d", -l))
			}
			return a
		},
	}
	format := f.format
	if format == "auto" {
		format = "json"
		if isTerminal(w) {
			format = "text"
		}
	}
	if format == "text" {
		return logr.FromSlogHandler(slog.NewTextHandler(w, opts))
	}
	return logr.FromSlogHandler(slog.NewJSONHandler(w, opts))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
