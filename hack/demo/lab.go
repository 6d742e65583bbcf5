package main

// The frr-renderer processes, the leftovers of an earlier run, the teardown and the logs kept
// after a failure.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/frr-renderer/frr-renderer/internal/frrtest"
)

// process is a program the demo started in a namespace, with its output in a log file.
type process struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed once it has exited
}

// startIn starts bin in network namespace ns (`ip netns exec` execs it: the pid is bin's). It
// gets a process group of its own: a Ctrl-C in the terminal reaches the demo alone, which
// stops it in turn.
func startIn(ns, log, bin string, args ...string) (*process, error) {
	f, err := os.Create(log)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, bin}, args...)...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, log: log, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, and SIGKILL after 5 s. It says how the process ended.
func (p *process) stop() string {
	if p.exited() {
		return fmt.Sprintf("%s, before the teardown", p.cmd.ProcessState)
	}
	sent := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	return fmt.Sprintf("%s (%s after SIGTERM)", p.cmd.ProcessState, seconds(time.Since(sent)))
}

func (p *process) logSize() int64 {
	fi, err := os.Stat(p.log)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// logSince returns up to n lines of the log from byte offset on.
func (p *process) logSince(offset int64, n int) []string {
	data, err := os.ReadFile(p.log)
	if err != nil || offset >= int64(len(data)) {
		return nil
	}
	lines := strings.Split(strings.TrimRight(string(data[offset:]), "\n"), "\n")
	return lines[:min(n, len(lines))]
}

// firstApplied returns the time of the first apply frr-renderer logged after byte offset.
func (p *process) firstApplied(offset int64) (time.Time, bool) {
	for _, line := range p.logSince(offset, 1000) {
		var rec struct {
			Time time.Time `json:"time"`
			Msg  string    `json:"msg"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "applied" {
			return rec.Time, true
		}
	}
	return time.Time{}, false
}

// namespaces returns the names of the demo's namespaces (and FRR pathspaces).
func (d *demo) namespaces() []string {
	names := []string{d.netns("tor")}
	for _, n := range seedNodes {
		names = append(names, d.netns(n.name))
	}
	return append(names, d.netns("client"))
}

// removeLeftovers removes what a run killed before its teardown left: its namespaces with all
// that runs in them (FRR, frr-renderer), its FRR pathspace folders and its manifests. The lock
// says no other demo of this name runs, so whatever has these names is a leftover.
func (d *demo) removeLeftovers() error {
	var errs []error
	for _, ns := range d.namespaces() {
		if exists("/var/run/netns/"+ns) || exists("/var/run/frr/"+ns) || exists("/etc/frr/"+ns) {
			d.say("removing %s, left over from an earlier run", ns)
			errs = append(errs, frrtest.RemoveNetns(ns))
		}
	}
	if exists(d.watch) {
		d.say("removing %s, left over from an earlier run", d.watch)
		errs = append(errs, os.RemoveAll(d.watch))
	}
	return errors.Join(errs...)
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// teardown stops and removes everything the run made, whatever state it reached. The
// renderers go first, by the pids it started, to show that each ends on SIGTERM.
func (d *demo) teardown() {
	d.step("Tearing down")
	for _, n := range d.nodes {
		if n.renderer != nil {
			d.say("frr-renderer run --node %s: %s", n.name, n.renderer.stop())
		}
		if n.web != nil {
			n.web.Close()
		}
	}
	var errs []error
	for _, r := range d.routers() {
		errs = append(errs, r.Close())
	}
	if d.client != nil {
		errs = append(errs, d.client.Close())
	}
	if err := errors.Join(append(errs, os.RemoveAll(d.watch))...); err != nil {
		d.failed(fmt.Errorf("tearing down: %w", err))
		return
	}
	d.say("stopped FRR, deleted the namespaces %s and their /etc/frr and /var/run/frr folders, and %s",
		strings.Join(d.namespaces(), " "), d.watch)
}

// routers returns the FRR instances that were started.
func (d *demo) routers() []*frrtest.Router {
	d.mu.Lock()
	defer d.mu.Unlock()
	var rs []*frrtest.Router
	if d.tor != nil {
		rs = append(rs, d.tor)
	}
	for _, n := range d.nodes {
		if n.r != nil {
			rs = append(rs, n.r)
		}
	}
	return rs
}

// keepLogs prints what can tell why a step failed, the ToR's sessions and the end of every
// frr-renderer and bgpd log, and copies every log to a folder that outlives the teardown, which
// it returns.
func (d *demo) keepLogs() string {
	if d.tor != nil {
		if out, err := d.tor.Vtysh("-c", "show bgp summary"); err == nil {
			fmt.Println()
			d.shell(fmt.Sprintf("vtysh -N %s -c 'show bgp summary'", d.tor.Netns), out)
		}
	}
	keep, err := os.MkdirTemp("", "frr-renderer-"+d.name+"-logs.")
	if err != nil {
		return err.Error()
	}
	for _, r := range d.routers() {
		logs, _ := filepath.Glob(filepath.Join(r.RunDir(), "*.log"))
		for _, l := range logs {
			data, err := os.ReadFile(l)
			if err != nil || os.MkdirAll(filepath.Join(keep, r.Netns), 0o755) != nil {
				continue
			}
			_ = os.WriteFile(filepath.Join(keep, r.Netns, filepath.Base(l)), data, 0o644)
			if name := filepath.Base(l); (name == "frr-renderer.log" || name == "bgpd.log") && len(data) > 0 {
				lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
				fmt.Printf("\n%s--- tail of %s%s\n%s\n", d.bold, l, d.plain, strings.Join(lines[max(0, len(lines)-25):], "\n"))
			}
		}
	}
	return keep
}
