package kubetest

import (
	"context"
	"fmt"
	"net"
	"runtime"

	"github.com/vishvananda/netns"
)

// DialerIn returns a dialer whose connections start in the named network namespace (one in
// /run/netns), for clients in the test's own namespace that talk to servers in a test's lab.
// A socket keeps the namespace it was created in: only the socket() call runs there, on a
// thread locked for it.
func DialerIn(name string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var (
			conn net.Conn
			err  error
		)
		if nsErr := inNetns(name, func() { conn, err = (&net.Dialer{}).DialContext(ctx, network, addr) }); nsErr != nil {
			return nil, nsErr
		}
		return conn, err
	}
}

// inNetns runs fn on a thread in the network namespace name, then returns the thread to its
// namespace. A thread that cannot be returned is left locked, so the runtime ends it.
func inNetns(name string, fn func()) error {
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("kubetest: this thread's network namespace: %w", err)
	}
	defer orig.Close()
	target, err := netns.GetFromName(name)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("kubetest: network namespace %q: %w", name, err)
	}
	defer target.Close()
	if err := netns.Set(target); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("kubetest: enter network namespace %q: %w", name, err)
	}
	fn()
	if err := netns.Set(orig); err != nil {
		return nil // the thread stays locked and dies with its goroutine
	}
	runtime.UnlockOSThread()
	return nil
}
