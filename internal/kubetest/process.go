package kubetest

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// Process is a child of the test (etcd, kube-apiserver, or a lab's daemon) whose output goes to
// a log file.
type Process struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{} // closed once the child is reaped
	err     error         // how it exited; read only after done
}

// StartProcess starts bin with args, in the network namespace netns when it is not ""; its
// stdout and stderr are appended to logPath, and also copied to also when that is not nil.
func StartProcess(name, logPath string, also io.Writer, netns, bin string, args ...string) (*Process, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	p := &Process{name: name, logPath: logPath, done: make(chan struct{})}
	if netns != "" {
		// nsenter, not `ip netns exec`: that also makes a private mount namespace, which would
		// hide the mounts of one lab process from another.
		args = append([]string{"--net=/run/netns/" + netns, "--", bin}, args...)
		bin = "nsenter"
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	if also != nil {
		w := io.MultiWriter(f, also)
		p.cmd.Stdout, p.cmd.Stderr = w, w
	}
	// If the test binary dies (a panic, a -timeout, SIGKILL), the kernel kills the child.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	started := make(chan error)
	go func() {
		// Pdeathsig fires when the thread that forked the child exits, not the process, and the
		// Go runtime ends a thread whose goroutine exits while locked to it (netns code does
		// that on purpose). Holding this goroutine on its own thread until the child is reaped
		// keeps that thread alive exactly as long as the child.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := p.cmd.Start(); err != nil {
			f.Close()
			started <- err
			return
		}
		started <- nil
		p.err = p.cmd.Wait()
		f.Close()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return p, nil
}

// Exited reports whether the child is gone, and how.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Stop sends SIGTERM, waits up to grace for the child to exit, then kills it, and returns once
// it is reaped.
func (p *Process) Stop(grace time.Duration) {
	if gone, _ := p.Exited(); gone {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return
	case <-time.After(grace):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Tail returns the last n lines of a log file.
func Tail(path string, n int) string {
	const window = 64 << 10 // enough for n long lines; the logs can grow to megabytes
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > window {
		_, _ = f.Seek(-window, io.SeekEnd)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// freePorts returns n distinct TCP ports that were free on 127.0.0.1 a moment ago. All are held
// open together so that no two are the same; another process may still take one before the child
// binds it, which is unlikely enough for tests.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// PID is the child's process ID.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// LogPath is the file the child's output goes to.
func (p *Process) LogPath() string { return p.logPath }
