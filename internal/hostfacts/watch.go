package hostfacts

import (
	"context"
	"fmt"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// WatchOptions tune Watch. The zero value watches the calling thread's network namespace.
type WatchOptions struct {
	// Namespace is the network namespace to watch; nil means the one the calling thread is in
	// (the one FromNetlink reads). Tests pass a namespace of their own.
	Namespace *netns.NsHandle
	// OnError receives the subscriptions' errors (a lost event, an overflowing socket, a failed
	// resubscription). It may be called from several goroutines at once. nil drops them.
	OnError func(error)

	// rcvbuf sets the subscriptions' socket receive buffer, for tests that make it overflow;
	// 0 means receiveBuffer. stall, when not nil, holds the watcher's goroutine until it is
	// closed, as a busy goroutine would be held.
	rcvbuf int
	stall  chan struct{}
}

// receiveBuffer is the subscriptions' socket receive buffer: room for a burst of a few
// thousand updates (a node's veths and routes come and go with its pods) while the watcher
// goroutine drains it. An overflow costs a resubscription and a signal, not a lost change.
const receiveBuffer = 1 << 20

// Resubscription backoff after a subscription ended (an overflow, a closed socket).
const (
	minResubscribe = 10 * time.Millisecond
	maxResubscribe = 5 * time.Second
)

// Watcher signals changes of the facts FromHandle reads: links, addresses and default routes
// of the main table, in one network namespace. It holds one goroutine of its own (and the
// netlink package's one per subscription), never one per event.
type Watcher struct {
	opts    WatchOptions
	changes chan struct{}
	done    chan struct{}
}

// Watch subscribes to link, address and route updates and returns once subscribed: a change
// made after Watch returns is signalled. Changes holds a token from the start, so that a
// consumer's first receive reads the initial facts. The watch ends with ctx.
//
// A token says that the facts may have changed: read them again (FromHandle, FromNetlink).
// Updates that cannot change them (routes other than default ones of the main table) are not
// signalled. When updates were lost (the socket overflowed), the watcher signals and
// subscribes again.
func Watch(ctx context.Context, opts WatchOptions) (*Watcher, error) {
	if opts.rcvbuf == 0 {
		opts.rcvbuf = receiveBuffer
	}
	w := &Watcher{opts: opts, changes: make(chan struct{}, 1), done: make(chan struct{})}
	sub, err := w.subscribe()
	if err != nil {
		return nil, err
	}
	w.changes <- struct{}{}
	go w.run(ctx, sub)
	return w, nil
}

// Changes receives a token when the facts may have changed since the last receive.
func (w *Watcher) Changes() <-chan struct{} { return w.changes }

// Done is closed once the watcher's goroutine has ended and its sockets are closed.
func (w *Watcher) Done() <-chan struct{} { return w.done }

func (w *Watcher) signal() {
	select {
	case w.changes <- struct{}{}:
	default:
	}
}

func (w *Watcher) report(err error) {
	if w.opts.OnError != nil {
		w.opts.OnError(err)
	}
}

func (w *Watcher) run(ctx context.Context, sub *subscription) {
	defer close(w.done)
	if w.opts.stall != nil {
		<-w.opts.stall
	}
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	backoff := minResubscribe
	for {
		// A nil subscription (between a loss and the resubscription) has nil channels: the
		// select waits for the retry alone.
		var (
			links  chan netlink.LinkUpdate
			addrs  chan netlink.AddrUpdate
			routes chan netlink.RouteUpdate
		)
		if sub != nil {
			links, addrs, routes = sub.links, sub.addrs, sub.routes
		}
		lost := false
		select {
		case <-ctx.Done():
			if sub != nil {
				sub.close()
			}
			return
		case _, ok := <-links:
			lost = !ok
			if ok {
				w.signal()
			}
		case _, ok := <-addrs:
			lost = !ok
			if ok {
				w.signal()
			}
		case u, ok := <-routes:
			lost = !ok
			if ok && factRoute(u.Route) {
				w.signal()
			}
		case <-retry.C:
			var err error
			if sub, err = w.subscribe(); err != nil {
				w.report(fmt.Errorf("host facts: subscribe again: %w", err))
				backoff = min(2*backoff, maxResubscribe)
				retry.Reset(backoff)
				continue
			}
			backoff = minResubscribe
			w.signal() // what changed while unsubscribed is unknown
		}
		if lost {
			// A subscription ends when its socket fails (ENOBUFS: updates were dropped).
			// Whatever was lost, the facts are read again; the subscriptions are started
			// again together, after a pause that grows if they keep failing.
			sub.close()
			sub = nil
			w.signal()
			retry.Reset(backoff)
		}
	}
}

// factRoute reports whether an update of r can change the facts: r is a default route of the
// main table, of any type (a unicast default replaced by a blackhole one is gone).
func factRoute(r netlink.Route) bool {
	if r.Table != unix.RT_TABLE_MAIN {
		return false
	}
	if r.Dst == nil {
		return true
	}
	ones, _ := r.Dst.Mask.Size()
	return ones == 0 && r.Dst.IP.IsUnspecified()
}

// subscription is one set of the three subscriptions, started and stopped together.
type subscription struct {
	stop   chan struct{}
	links  chan netlink.LinkUpdate
	addrs  chan netlink.AddrUpdate
	routes chan netlink.RouteUpdate
}

func (w *Watcher) subscribe() (*subscription, error) {
	s := &subscription{stop: make(chan struct{})}
	onError := func(err error) {
		select {
		case <-s.stop: // the socket closed because we stopped it
		default:
			w.report(fmt.Errorf("host facts: netlink subscription: %w", err))
		}
	}
	ns, rcvbuf := w.opts.Namespace, w.opts.rcvbuf
	// The netlink package sends to these from its receiving goroutines, blocking: a little
	// room lets it read the socket while run is busy.
	links := make(chan netlink.LinkUpdate, 64)
	err := netlink.LinkSubscribeWithOptions(links, s.stop, netlink.LinkSubscribeOptions{
		Namespace: ns, ErrorCallback: onError, ReceiveBufferSize: rcvbuf,
	})
	if err != nil {
		s.close()
		return nil, fmt.Errorf("host facts: subscribe to links: %w", err)
	}
	s.links = links
	addrs := make(chan netlink.AddrUpdate, 64)
	err = netlink.AddrSubscribeWithOptions(addrs, s.stop, netlink.AddrSubscribeOptions{
		Namespace: ns, ErrorCallback: onError, ReceiveBufferSize: rcvbuf,
	})
	if err != nil {
		s.close()
		return nil, fmt.Errorf("host facts: subscribe to addresses: %w", err)
	}
	s.addrs = addrs
	routes := make(chan netlink.RouteUpdate, 64)
	err = netlink.RouteSubscribeWithOptions(routes, s.stop, netlink.RouteSubscribeOptions{
		Namespace: ns, ErrorCallback: onError, ReceiveBufferSize: rcvbuf,
	})
	if err != nil {
		s.close()
		return nil, fmt.Errorf("host facts: subscribe to routes: %w", err)
	}
	s.routes = routes
	return s, nil
}

// close stops the subscriptions and waits until the netlink package's goroutines are done: it
// drains their channels, which they close once their sockets are closed.
func (s *subscription) close() {
	close(s.stop)
	if s.links != nil {
		for range s.links {
		}
	}
	if s.addrs != nil {
		for range s.addrs {
		}
	}
	if s.routes != nil {
		for range s.routes {
		}
	}
}
