package vtysh

// This file is the client side of the protocol vtysh speaks with each FRR daemon on its unix vty
// socket (lib/vty.c vtysh_accept/vtysh_read, vtysh/vtysh.c vtysh_client_run), as measured against
// FRR 8.4 and 10.3:
//
//   - The client writes one command line followed by a NUL byte, then waits: the daemon reads the
//     socket in 512-byte chunks and executes every NUL-terminated line it finds, but some of its
//     paths drop what follows the line in that chunk (a command that suspends the session, as
//     `write integrated` does, or waits for mgmtd), so vtysh never sends a second command before
//     the first one's reply. This client does, for network lines only (pipelined): they take
//     none of those paths. The daemon drops a whole chunk when it and the part of a line before
//     it reach 4,096 bytes ("% Command is too long."), so pipelined lines are short.
//   - The daemon answers with the command's output (no prompt, no pager, no CR) and then four
//     bytes: three NULs and the command's status (CMD_SUCCESS = 0, CMD_WARNING = 1,
//     CMD_ERR_NO_MATCH = 2, ... CMD_WARNING_CONFIG_FAILED = 13).
//   - A new session starts in VIEW_NODE: only show commands work until `enable`.
//     `configure terminal` (not `configure`) enters CONFIG_NODE from ENABLE_NODE only; `end`
//     returns to ENABLE_NODE from any configuration node and is accepted in ENABLE_NODE too;
//     `exit` from CONFIG_NODE goes back to ENABLE_NODE, and `exit`/`quit` in ENABLE or VIEW_NODE
//     closes the session.
//   - A line that does not match in the current configuration node is tried in the parent nodes
//     up to CONFIG_NODE, and the session stays in the node where it matched (this is how a
//     config file works without explicit exits). A line that matches nowhere leaves the node as
//     it was.
//   - A command line of 4,095 bytes or more (NUL included: 4,096) is refused with "% Command is
//     too long." and its tail is executed as a command of its own. The client refuses such lines.
//   - Sessions on the unix socket never time out (exec-timeout applies to TCP vty sessions only).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
)

// Status is the status byte a daemon sends after a command's output (lib/command.h CMD_*).
type Status uint8

// The statuses a daemon can return. Only StatusSuccess means the command took effect; the others
// come with an explanation in the output (a line starting with "%", usually).
const (
	StatusSuccess             Status = 0  // CMD_SUCCESS
	StatusWarning             Status = 1  // CMD_WARNING: the command failed (older commands) or warned
	StatusNoMatch             Status = 2  // CMD_ERR_NO_MATCH: unknown command in this node and its parents
	StatusAmbiguous           Status = 3  // CMD_ERR_AMBIGUOUS
	StatusIncomplete          Status = 4  // CMD_ERR_INCOMPLETE
	StatusExceedArgcMax       Status = 5  // CMD_ERR_EXEED_ARGC_MAX
	StatusNothingToDo         Status = 6  // CMD_ERR_NOTHING_TODO
	StatusSuspend             Status = 12 // CMD_SUSPEND
	StatusWarningConfigFailed Status = 13 // CMD_WARNING_CONFIG_FAILED: a configuration command was refused
	StatusNotMyInstance       Status = 14 // CMD_NOT_MY_INSTANCE
)

var statusNames = map[Status]string{
	StatusSuccess:             "success",
	StatusWarning:             "warning",
	StatusNoMatch:             "unknown command",
	StatusAmbiguous:           "ambiguous command",
	StatusIncomplete:          "incomplete command",
	StatusExceedArgcMax:       "too many arguments",
	StatusNothingToDo:         "nothing to do",
	StatusSuspend:             "suspended",
	StatusWarningConfigFailed: "configuration failed",
	StatusNotMyInstance:       "not my instance",
}

func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return fmt.Sprintf("%s (%d)", n, uint8(s))
	}
	return fmt.Sprintf("status %d", uint8(s))
}

// ErrDisconnected is wrapped by every error after which the connection is unusable: the daemon
// closed it (it exited or restarted), it could not be reached, a read or write failed, or a call
// was abandoned half-way (its context ended before the reply came, which leaves the stream out of
// step). The Client is closed by then; dial again.
var ErrDisconnected = errors.New("vty connection lost")

// ErrInvalidCommand is a command the client refuses to send: it contains a NUL or a line break,
// or it is longer than MaxCommandLen.
var ErrInvalidCommand = errors.New("invalid vty command")

// ErrOutputTooLarge is returned when a command's output exceeds the client's output limit. The
// output is read to its end and dropped, so the session stays usable.
var ErrOutputTooLarge = errors.New("vty output exceeds the limit")

// MaxCommandLen is the longest command line a daemon accepts: its line buffer is 4,096 bytes,
// NUL included.
const MaxCommandLen = 4094

// endTimeout bounds the `end` that Configure always sends last.
const endTimeout = 5 * time.Second

// DefaultMaxOutput is the default limit on one command's output (WithMaxOutput).
const DefaultMaxOutput = 256 << 20

// CommandError is a command the daemon answered with a status other than StatusSuccess.
type CommandError struct {
	Command string // the command, passwords masked (frrconfig.MaskSecrets)
	Status  Status
	Output  string // the daemon's output, masked the same way
}

func (e *CommandError) Error() string {
	return fmt.Sprintf("vty command %q: %v%s", e.Command, e.Status, outputSuffix(e.Output))
}

// ConfigError is the line of a Configure batch the daemon refused. The lines before it are
// applied (FRR has no rollback for bgpd), the ones after it were not sent, but for the rest of a
// pipelined run of network lines (Applied).
type ConfigError struct {
	Line int // 0-based index into the lines given to Configure
	// Applied, when above Line+1, is how many of the lines were sent: Line was one of a run
	// sent in one write (pipelined), and the run's lines after it are applied too.
	Applied int
	Text    string // the line, passwords masked (frrconfig.MaskSecrets)
	Status  Status // the daemon's answer; 0 when Err is set
	Output  string // the daemon's output, masked the same way
	// Err is set when the line was not answered: the client refused it (ErrInvalidCommand,
	// before anything was sent), or the connection failed (ErrDisconnected, a context error).
	Err error
}

func (e *ConfigError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("vty config line %d %q: %v", e.Line, e.Text, e.Err)
	}
	return fmt.Sprintf("vty config line %d %q: %v%s", e.Line, e.Text, e.Status, outputSuffix(e.Output))
}

func (e *ConfigError) Unwrap() error { return e.Err }

func outputSuffix(out string) string {
	out = strings.TrimSpace(out)
	if out == "" {
		return ""
	}
	return ": " + strings.ReplaceAll(out, "\n", "; ")
}

// Option configures a Client at Dial.
type Option func(*Client)

// WithMaxOutput limits how many bytes of output one command may return (DefaultMaxOutput).
func WithMaxOutput(n int) Option {
	return func(c *Client) { c.maxOutput = n }
}

// Client is one persistent connection to one daemon's vty socket. It starts and, between calls,
// stays in ENABLE_NODE. Not safe for concurrent use; the applier owns it.
type Client struct {
	path      string
	conn      net.Conn
	maxOutput int

	buf  []byte // the reply being read
	rbuf []byte // read chunk
	err  error  // set once the connection is unusable; every later call returns it
}

// SocketPath returns <runDir>/<daemon>.vty; runDir is FRR's run directory for a pathspace
// (e.g. /var/run/frr/NAME; for a chrooted FRR, the chroot's run/frr/NAME as seen from here).
func SocketPath(runDir, daemon string) string {
	return filepath.Join(runDir, daemon+".vty")
}

// Dial connects to the vty socket at socketPath and enables the session (`enable`), so that
// both show and `configure terminal` work. A daemon that is not running (no socket, or nobody
// listening on it) gives an error wrapping ErrDisconnected.
func Dial(ctx context.Context, socketPath string, opts ...Option) (*Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", socketPath)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("vty %s: dial: %w", socketPath, err)
		}
		return nil, fmt.Errorf("vty %s: %w: %w", socketPath, ErrDisconnected, err)
	}
	c := &Client{path: socketPath, conn: conn, maxOutput: DefaultMaxOutput,
		rbuf: make([]byte, 64<<10)}
	for _, o := range opts {
		o(c)
	}
	if _, err := c.Exec(ctx, "enable"); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Close closes the connection. The daemon then leaves whatever node the session was in (and
// commits what a configuration session left pending). Close is idempotent.
func (c *Client) Close() error {
	if c.conn == nil {
		return nil
	}
	err := c.conn.Close()
	c.conn = nil
	if c.err == nil {
		c.err = fmt.Errorf("vty %s: %w: client closed", c.path, ErrDisconnected)
	}
	return err
}

// Exec runs one command (show or config, in the session's current node) and returns its output.
// A status other than StatusSuccess returns the output and a *CommandError.
func (c *Client) Exec(ctx context.Context, cmd string) (string, error) {
	out, st, err := c.run(ctx, cmd)
	if err != nil {
		return "", err
	}
	if st != StatusSuccess {
		return out, &CommandError{Command: frrconfig.MaskSecrets(cmd), Status: st, Output: frrconfig.MaskSecrets(out)}
	}
	return out, nil
}

// Alive reports whether the daemon answers `show version` within the context's deadline.
// A false answer on a live connection's timeout also closes the client (see ErrDisconnected).
func (c *Client) Alive(ctx context.Context) bool {
	_, err := c.Exec(ctx, "show version")
	return err == nil
}

// Notice is the output of a configuration line that succeeded but printed something, such as
// "Graceful restart configuration changed, reset all peers to take effect".
type Notice struct {
	Line   int    // 0-based index into the lines
	Text   string // the line, masked
	Output string // masked
}

// Configure runs lines in configuration mode, as `vtysh -c 'configure terminal' -c LINE ...` or
// a file load would: it enters `configure terminal`, sends each line (lines may enter and leave
// nodes: "router bgp 65001", " address-family ipv4 unicast", "  network ...",
// " exit-address-family", "exit"), then `end`. Empty lines and comments ("!", "#") are skipped;
// "end" returns to the top configuration node; an "exit" or "quit" that leaves configuration mode
// altogether is followed by `configure terminal` again, so it never ends the session.
//
// It stops at the first line the daemon refuses and returns a *ConfigError; lines before it stay
// applied. Whatever happens, the session is back in ENABLE_NODE afterwards (or the error wraps
// ErrDisconnected).
func (c *Client) Configure(ctx context.Context, lines []string) error {
	_, err := c.configure(ctx, lines, false)
	return err
}

// ConfigureNotices is Configure that also returns what successful lines printed.
func (c *Client) ConfigureNotices(ctx context.Context, lines []string) ([]Notice, error) {
	return c.configure(ctx, lines, false)
}

// configure is ConfigureNotices, or with batch, the lines bracketed with
// XFRR_start_configuration and XFRR_end_configuration, as `vtysh -f` and `vtysh -b` do. Between the two, the session keeps the changes of FRR's
// northbound-converted commands (route-maps, prefix-lists, ...) in its candidate configuration
// and commits them once at the end instead of once per line. Measured with 1,000 entries on
// bgpd's socket: route-maps 0.2-0.3 s instead of 9-18 s on FRR 10.3 and 2-3 times faster on
// 8.4; prefix-lists 0.1 s instead of 1.1-2.1 s on 10.3, no faster on 8.4. Plain BGP lines
// such as `network` gain nothing.
//
// The price: the start marker puts the whole of bgpd, not just this session, in "reading
// configuration" mode. A neighbor created by anyone meanwhile, or within a second or so after
// the end marker, stays Idle until about a second after the end marker (4 s when the batch
// changed route-maps: bgpd waits for its route-map update timer), and up to 10 minutes if the
// end marker never comes, as when the connection breaks half-way. configure sends the end
// marker even when a line fails. The candidate configuration is shared by all sessions of the
// daemon, so another session's pending edits are committed with the batch. Worth it for large
// batches of policy lines, not for a change that adds a peer; for what frr-renderer renders it
// gains nothing (see Applier.send), so only the tests and benchmarks batch.
func (c *Client) configure(ctx context.Context, lines []string, batch bool) ([]Notice, error) {
	// Refuse what cannot be sent before anything is applied.
	for i, l := range lines {
		if err := checkCommand(l); err != nil {
			return nil, &ConfigError{Line: i, Text: frrconfig.MaskSecrets(l), Err: err}
		}
	}
	if _, err := c.Exec(ctx, "configure terminal"); err != nil {
		return nil, err
	}
	var notices []Notice
	var err error
	if batch {
		_, err = c.Exec(ctx, "XFRR_start_configuration")
	}
	if err == nil {
		notices, err = c.configLines(ctx, lines)
	}
	// What follows runs even when ctx has ended between two lines (the connection is still in
	// step then): bgpd must not stay in its configuration-reading mode, and the session must
	// not stay in configuration mode. It gets a short deadline of its own.
	endCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), endTimeout)
	defer cancel()
	if batch {
		// Also commits what the batch left pending; a commit that fails is reported here.
		if _, endErr := c.Exec(endCtx, "XFRR_end_configuration"); endErr != nil && err == nil {
			err = endErr
		}
	}
	// Back to ENABLE_NODE from any configuration node.
	if _, endErr := c.Exec(endCtx, "end"); endErr != nil && err == nil {
		err = endErr
	}
	return notices, err
}

func (c *Client) configLines(ctx context.Context, lines []string) ([]Notice, error) {
	var notices []Notice
	for i := 0; i < len(lines); i++ {
		if n := pipelined(lines[i:]); n > 1 {
			var refused *ConfigError
			words := make([]string, n)
			for j, l := range lines[i : i+n] {
				words[j] = strings.TrimSpace(l)
			}
			err := c.exchange(ctx, words, func(j int, r reply) {
				line := lines[i+j]
				switch {
				case refused != nil:
				case r.err != nil:
					refused = &ConfigError{Line: i + j, Text: frrconfig.MaskSecrets(line), Err: r.err}
				case r.st != StatusSuccess:
					refused = &ConfigError{Line: i + j, Text: frrconfig.MaskSecrets(line), Status: r.st, Output: frrconfig.MaskSecrets(r.out)}
				case strings.TrimSpace(r.out) != "":
					notices = append(notices, Notice{Line: i + j, Text: frrconfig.MaskSecrets(line), Output: frrconfig.MaskSecrets(r.out)})
				}
			})
			if err != nil {
				return notices, &ConfigError{Line: i, Text: frrconfig.MaskSecrets(lines[i]), Err: err}
			}
			if refused != nil {
				refused.Applied = i + n
				return notices, refused
			}
			i += n - 1
			continue
		}
		line := lines[i]
		word := strings.TrimSpace(line)
		if word == "" || word[0] == '!' || word[0] == '#' {
			continue
		}
		out, st, err := c.run(ctx, word)
		if err != nil {
			return notices, &ConfigError{Line: i, Text: frrconfig.MaskSecrets(line), Err: err}
		}
		if st != StatusSuccess {
			return notices, &ConfigError{Line: i, Text: frrconfig.MaskSecrets(line), Status: st, Output: frrconfig.MaskSecrets(out)}
		}
		if strings.TrimSpace(out) != "" {
			notices = append(notices, Notice{Line: i, Text: frrconfig.MaskSecrets(line), Output: frrconfig.MaskSecrets(out)})
		}
		switch word {
		case "end", "exit", "quit":
			// `end` always, `exit` from CONFIG_NODE, leave configuration mode. `configure terminal`
			// is unknown in every configuration node, so it re-enters configuration mode only if
			// the session has left it, and changes nothing otherwise.
			out, st, err := c.run(ctx, "configure terminal")
			if err != nil {
				return notices, &ConfigError{Line: i, Text: frrconfig.MaskSecrets(line), Err: err}
			}
			if st != StatusSuccess && st != StatusNoMatch {
				return notices, &ConfigError{Line: i, Text: frrconfig.MaskSecrets(line), Status: st,
					Output: "configure terminal after it: " + frrconfig.MaskSecrets(out)}
			}
		}
	}
	return notices, nil
}

// pipelined returns how many of the first lines can go to the daemon in one write: a run of
// `network` and `no network` lines, at most pipelineMax, each at most pipelineLineMax bytes.
// Such a line never leaves its address-family node, so each one does what it says whatever the
// ones before it did; a line that enters or leaves a node, creates a neighbor or sets its
// password must not run when the one before it was refused. One write per run instead of one
// round trip per line: 10,000 network lines into an empty bgpd take 0.35 s instead of 0.73 s on
// FRR 8.4, 0.43 instead of 0.77 on 10.3 (BenchmarkApplyInitial/socket); runs longer than 32
// lines gain nothing more.
func pipelined(lines []string) int {
	n := 0
	for n < len(lines) && n < pipelineMax {
		w := strings.TrimLeft(lines[n], " ")
		if !strings.HasPrefix(w, "network ") && !strings.HasPrefix(w, "no network ") || len(w) > pipelineLineMax {
			break
		}
		n++
	}
	return n
}

const (
	// pipelineMax bounds a pipelined write: a few KiB, far below the socket's buffer, whose
	// replies (4 bytes each for a network line) never fill it either.
	pipelineMax = 64
	// pipelineLineMax keeps a pipelined line with the 512 bytes the daemon reads after it below
	// its 4,096-byte line buffer. A network line is under 100 bytes.
	pipelineLineMax = 1024
)

func checkCommand(cmd string) error {
	switch {
	case strings.ContainsAny(cmd, "\x00\n\r"):
		return fmt.Errorf("%w: it contains a NUL or a line break", ErrInvalidCommand)
	case len(cmd) > MaxCommandLen:
		return fmt.Errorf("%w: %d bytes long, the daemon accepts at most %d", ErrInvalidCommand, len(cmd), MaxCommandLen)
	}
	return nil
}

// run sends one command and reads its reply. A non-nil error means the connection is unusable
// (and closed), except for a command refused before sending and ErrOutputTooLarge.
func (c *Client) run(ctx context.Context, cmd string) (string, Status, error) {
	var r reply
	if err := c.exchange(ctx, []string{cmd}, func(_ int, got reply) { r = got }); err != nil {
		return "", 0, err
	}
	return r.out, r.st, r.err
}

// reply is a daemon's answer to one command; err is nil or ErrOutputTooLarge.
type reply struct {
	out string
	st  Status
	err error
}

// exchange sends cmds in one write and hands each reply to each, in order. The daemon executes
// every command it receives, so this is for commands that stay correct whatever the ones before
// them did (see pipelined). A non-nil error means the connection is unusable (and closed),
// except for a command refused before anything was sent.
func (c *Client) exchange(ctx context.Context, cmds []string, each func(i int, r reply)) error {
	if c.err != nil {
		return c.err
	}
	size := 0
	for _, cmd := range cmds {
		if err := checkCommand(cmd); err != nil {
			return fmt.Errorf("vty %s: %q: %w", c.path, frrconfig.MaskSecrets(cmd), err)
		}
		size += len(cmd) + 1
	}
	if err := ctx.Err(); err != nil {
		// Nothing sent yet: the session is still in step.
		return fmt.Errorf("vty %s: %w", c.path, err)
	}
	deadline, _ := ctx.Deadline()
	if err := c.conn.SetDeadline(deadline); err != nil {
		return c.fail(ctx, err)
	}
	// A context without deadline may still be cancelled: wake the blocked read or write.
	conn, woken := c.conn, make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		conn.SetDeadline(time.Unix(1, 0))
		close(woken)
	})
	defer func() {
		if !stop() {
			// The cancellation raced with the reply: let it finish before the next call sets
			// its own deadline, or it could cut that call short.
			<-woken
		}
	}()

	msg := make([]byte, 0, size)
	for _, cmd := range cmds {
		msg = append(append(msg, cmd...), 0)
	}
	if _, err := c.conn.Write(msg); err != nil {
		return c.fail(ctx, err)
	}
	for i := range cmds {
		out, st, err := c.readReply()
		if err != nil && !errors.Is(err, ErrOutputTooLarge) {
			return c.fail(ctx, err)
		}
		each(i, reply{out, st, err})
	}
	return nil
}

// readReply reads the next reply: output, three NULs and the status byte. Output never holds a
// NUL, so the first three NULs end it; bytes after the status byte are the next reply's (exchange
// sends several commands at once) and stay in c.buf for it.
func (c *Client) readReply() (string, Status, error) {
	dropped := 0 // output bytes dropped over the limit
	scanned := 0 // no marker starts in c.buf[:scanned]
	for {
		if k := bytes.Index(c.buf[scanned:], replyEnd); k >= 0 && scanned+k+3 < len(c.buf) {
			k += scanned
			st := Status(c.buf[k+3])
			tooLarge := dropped > 0 || k > c.maxOutput
			out := ""
			if !tooLarge {
				out = string(c.buf[:k])
			}
			c.buf = c.buf[:copy(c.buf, c.buf[k+4:])]
			if len(c.buf) == 0 && cap(c.buf) > 1<<20 {
				c.buf = nil // do not hold on to a large reply's memory
			}
			if tooLarge {
				return "", st, fmt.Errorf("vty %s: %w (%d bytes)", c.path, ErrOutputTooLarge, c.maxOutput)
			}
			return out, st, nil
		}
		scanned = max(0, len(c.buf)-3)
		if len(c.buf) > c.maxOutput+3 {
			// Keep reading to the marker, so the session stays in step, but keep only the last
			// three bytes: they may begin the marker.
			k := len(c.buf)
			dropped += k - 3
			c.buf = append(c.buf[:0], c.buf[k-3:]...)
			scanned = 0
		}
		n, err := c.conn.Read(c.rbuf)
		c.buf = append(c.buf, c.rbuf[:n]...)
		if err != nil && n == 0 {
			return "", 0, err
		}
	}
}

// replyEnd begins the four bytes that end a reply; the fourth is the status.
var replyEnd = []byte{0, 0, 0}

// fail closes the connection after an I/O error and returns the error every later call returns.
func (c *Client) fail(ctx context.Context, err error) error {
	cause := err
	if ctxErr := ctx.Err(); ctxErr != nil && isTimeout(err) {
		cause = ctxErr // cancelled through AfterFunc, or the deadline passed
	} else if isTimeout(err) {
		cause = context.DeadlineExceeded
	}
	c.err = fmt.Errorf("vty %s: %w: %w", c.path, ErrDisconnected, cause)
	c.conn.Close()
	c.conn = nil
	return c.err
}

func isTimeout(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded)
}

// Disconnected reports whether err means the connection to the daemon is gone: the client must
// be dialled again. The same as errors.Is(err, ErrDisconnected), plus the raw socket errors a
// caller of net functions may meet.
func Disconnected(err error) bool {
	return errors.Is(err, ErrDisconnected) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)
}
