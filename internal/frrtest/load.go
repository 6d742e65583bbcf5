package frrtest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// LoadError is Load's error.
type LoadError struct {
	// Rejected holds vtysh's complaints about lines of the file, once each, in order, as vtysh
	// printed them: "line 8: % Unknown command[25]:  neighbor 10.255.0.2 bogus-option 3".
	Rejected []string
	// Other holds the rest of vtysh's output: warnings and summaries.
	Other []string
	// Err is vtysh's exit status and/or bgpd not answering after the load.
	Err error
}

func (e *LoadError) Error() string {
	var b strings.Builder
	b.WriteString("loading config")
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	for _, part := range []struct {
		title string
		lines []string
	}{{"rejected", e.Rejected}, {"other output", e.Other}} {
		if len(part.lines) > 0 {
			fmt.Fprintf(&b, "\n%s:\n  %s", part.title, strings.Join(part.lines, "\n  "))
		}
	}
	return b.String()
}

var (
	// FRR 10's vtysh -f forks a child per daemon and narrates it.
	vtyshProgress = regexp.MustCompile(`^(\[\d+\|[\w-]+\] (sending configuration|done)|Waiting for children to finish applying config\.\.\.)$`)
	// vtysh -f reports a failed line as "line N: ..." (the text follows "% " or names the
	// failure); a daemon's own error for a command starts with "%".
	vtyshRejected = regexp.MustCompile(`^(line \d+: |%)`)
	// vtyshLockWait is what FRR 10's vtysh -f prints each time it retries a datastore lock.
	vtyshLockWait = regexp.MustCompile(`^% Can't enter config; (candidate|running) datastore locked by another session$`)
)

// Load applies a complete frr.conf text with `vtysh -f`, line by line, as FRR does: there is
// no rollback, so the lines vtysh accepts stay applied even when Load returns an error.
// The error (a *LoadError) lists every line vtysh rejected. Load also fails when vtysh exits
// non-zero or when bgpd does not answer afterwards: with bgpd down, vtysh -f exits 0 and
// silently drops every BGP line. Output that rejects nothing (such as "The route-map 'X' does
// not exist." for a forward reference, or the graceful-restart reset hints) goes to Options.Logf
// (the test log).
func (r *Router) Load(config string) error {
	// The file must be visible to vtysh, which runs inside the chroot on 10.3.
	f, err := os.CreateTemp(r.confDir(), "load-*.conf")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = f.WriteString(config)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	out, vtyshErr := r.command("vtysh", "-N", r.Netns, "-f", filepath.Join("/etc/frr", r.Netns, filepath.Base(f.Name()))).CombinedOutput()

	var lerr LoadError
	for line := range strings.Lines(string(out)) {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || vtyshProgress.MatchString(line):
		case vtyshLockWait.MatchString(line):
			// FRR 10's vtysh -f retries while mgmtd holds the datastore (at start-up it
			// does, briefly) and then applies the file: a wait, not a rejection.
			lerr.Other = append(lerr.Other, line)
		case vtyshRejected.MatchString(line):
			// FRR 10 repeats each complaint once per daemon it sends the file to.
			if !slices.Contains(lerr.Rejected, line) {
				lerr.Rejected = append(lerr.Rejected, line)
			}
		default:
			lerr.Other = append(lerr.Other, line)
		}
	}
	if vtyshErr != nil {
		lerr.Err = fmt.Errorf("vtysh -f: %w", vtyshErr)
	}
	if _, err := r.Vtysh("-d", "bgpd", "-c", "show version"); err != nil {
		lerr.Err = errors.Join(lerr.Err, fmt.Errorf("bgpd is not answering after the load: %w", err))
	}
	if lerr.Err != nil || len(lerr.Rejected) > 0 {
		return fmt.Errorf("%s: %w", r.Netns, &lerr)
	}
	if len(lerr.Other) > 0 && r.logf != nil {
		r.logf("frrtest: %s: vtysh -f printed:\n  %s", r.Netns, strings.Join(lerr.Other, "\n  "))
	}
	return nil
}
