// Command runc-capfilter is a runc for a container engine on a machine whose capability
// bounding set withholds some capabilities (a VM without CAP_SYS_RESOURCE, say). Privileged
// containers ask runc for every capability, and runc fails ("unable to apply caps: operation not
// permitted") when one is not in the bounding set. This wrapper removes those from the OCI
// bundle's config.json (create, run) or the process file (exec), then runs the real runc with
// the same arguments. Where nothing is withheld it changes nothing.
//
// The lab's private dockerd (internal/clabtest) registers it as its default runtime; the real
// runc is $RUNC_CAPFILTER_RUNC, default /usr/sbin/runc.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// capNames are Linux's capabilities in bit order.
var capNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
	"CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
	"CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

func main() {
	if err := filter(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "runc-capfilter:", err)
		os.Exit(1)
	}
	runc := os.Getenv("RUNC_CAPFILTER_RUNC")
	if runc == "" {
		runc = "/usr/sbin/runc"
	}
	err := syscall.Exec(runc, append([]string{runc}, os.Args[1:]...), os.Environ())
	fmt.Fprintln(os.Stderr, "runc-capfilter:", err)
	os.Exit(1)
}

// filter edits the file that holds the capabilities runc is about to apply, if any.
func filter(args []string) error {
	allowed, err := boundingSet()
	if err != nil {
		return err
	}
	cmd, path := "", ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case cmd == "" && (a == "create" || a == "run" || a == "exec"):
			cmd = a
		case cmd != "" && (a == "--bundle" || a == "-b") && i+1 < len(args) && cmd != "exec":
			path = args[i+1] + "/config.json"
		case cmd != "" && strings.HasPrefix(a, "--bundle=") && cmd != "exec":
			path = strings.TrimPrefix(a, "--bundle=") + "/config.json"
		case cmd == "exec" && (a == "--process" || a == "-p") && i+1 < len(args):
			path = args[i+1]
		case cmd == "exec" && strings.HasPrefix(a, "--process="):
			path = strings.TrimPrefix(a, "--process=")
		}
	}
	switch {
	case cmd == "":
		return nil
	case path == "" && cmd != "exec":
		path = "config.json" // the bundle is the working directory
	case path == "":
		return nil // exec of the container's own process spec
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	process := doc
	if cmd != "exec" {
		process, _ = doc["process"].(map[string]any)
	}
	caps, _ := process["capabilities"].(map[string]any)
	if caps == nil {
		return nil
	}
	changed := false
	for set, v := range caps {
		list, _ := v.([]any)
		kept := list[:0]
		for _, c := range list {
			if name, _ := c.(string); allowed[name] {
				kept = append(kept, c)
			} else {
				changed = true
			}
		}
		caps[set] = kept
	}
	if !changed {
		return nil
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o600)
}

// boundingSet is this process's capability bounding set, by name.
func boundingSet() (map[string]bool, error) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if hex, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
			if err != nil {
				return nil, err
			}
			allowed := map[string]bool{}
			for bit, name := range capNames {
				if mask&(1<<bit) != 0 {
					allowed[name] = true
				}
			}
			return allowed, nil
		}
	}
	return nil, fmt.Errorf("no CapBnd in /proc/self/status")
}
