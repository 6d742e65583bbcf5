package filewatch

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// wholeness tells, for each path of a watched folder, whether what was last done to it is
// whole: a file closed after writing, renamed into place or removed is; a file being written
// (created or modified, not closed yet) or a folder just created (its files may be on their
// way) is not. fsnotify does not say this (its close-write and moved-to events are not
// exported), so wholeness reads the same folders through an inotify instance of its own, whose
// events arrive in the order they happened.
type wholeness struct {
	file *os.File
	fd   int

	mu      sync.Mutex
	wds     map[int]string // watch descriptor -> folder
	folders map[string]int
	state   map[string]state
	lost    bool // events were lost: nothing is known to be whole
	// whole is called (without mu) with the paths that became whole, so that a reader waiting
	// for their writes to end can read them now.
	whole func(paths []string)
}

// state is what is known of a path.
type state int

const (
	whole     state = iota // closed after writing, renamed into place, removed
	writing                // created or modified, not closed yet
	newFolder              // made in place: it fills afterwards, and no event says when
)

const wholenessEvents = unix.IN_CREATE | unix.IN_MODIFY | unix.IN_CLOSE_WRITE | unix.IN_MOVED_TO |
	unix.IN_MOVED_FROM | unix.IN_DELETE | unix.IN_ONLYDIR

func newWholeness(whole func(paths []string)) (*wholeness, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	return &wholeness{
		file:    os.NewFile(uintptr(fd), "inotify"),
		fd:      fd,
		wds:     map[int]string{},
		folders: map[string]int{},
		state:   map[string]state{},
		whole:   whole,
	}, nil
}

// add follows the entries of folder dir. A failure is not an error: the entries of a folder not
// followed are never known to be whole, which only makes a reader wait longer.
func (w *wholeness) add(dir string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.folders[dir]; ok {
		return
	}
	wd, err := unix.InotifyAddWatch(w.fd, dir, wholenessEvents)
	if err != nil {
		return
	}
	w.wds[wd] = dir
	w.folders[dir] = wd
}

func (w *wholeness) remove(dir string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if wd, ok := w.folders[dir]; ok {
		_, _ = unix.InotifyRmWatch(w.fd, uint32(wd)) // the kernel may have dropped it already
		delete(w.folders, dir)
		delete(w.wds, wd)
	}
}

// isWhole reports whether every path in paths is known to be whole.
func (w *wholeness) isWhole(paths map[string]bool) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.lost {
		return false
	}
	for p := range paths {
		if st, known := w.state[p]; !known || st != whole {
			return false
		}
	}
	return true
}

// forget drops what is known of paths once they were read, but that a file is being written.
// It also forgets lost events: what was lost is read again now.
func (w *wholeness) forget(paths map[string]bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lost = false
	for p := range paths {
		if w.state[p] != writing {
			delete(w.state, p)
		}
	}
}

// run reads events until the instance is closed.
func (w *wholeness) run() {
	var buf [64 << 10]byte
	for {
		n, err := w.file.Read(buf[:])
		if err != nil {
			return // closed
		}
		if became := w.handle(buf[:n]); len(became) > 0 {
			w.whole(became)
		}
	}
}

// handle records a batch of events and returns the paths that became whole.
func (w *wholeness) handle(buf []byte) (became []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for off := 0; off+unix.SizeofInotifyEvent <= len(buf); {
		ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
		nameBytes := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
		off += unix.SizeofInotifyEvent + int(ev.Len)
		if ev.Mask&unix.IN_Q_OVERFLOW != 0 {
			w.lost = true
			continue
		}
		dir, ok := w.wds[int(ev.Wd)]
		if !ok {
			continue
		}
		if ev.Mask&unix.IN_IGNORED != 0 {
			delete(w.wds, int(ev.Wd))
			delete(w.folders, dir)
			continue
		}
		name := cString(nameBytes)
		if name == "" {
			continue // an event on the folder itself
		}
		p := filepath.Join(dir, name)
		switch {
		case ev.Mask&unix.IN_CREATE != 0 && ev.Mask&unix.IN_ISDIR != 0:
			w.state[p] = newFolder
		case ev.Mask&(unix.IN_CREATE|unix.IN_MODIFY) != 0:
			w.state[p] = writing
		case ev.Mask&(unix.IN_CLOSE_WRITE|unix.IN_MOVED_TO|unix.IN_MOVED_FROM|unix.IN_DELETE) != 0:
			w.state[p] = whole
			became = append(became, p)
		}
	}
	return became
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

func (w *wholeness) close() error {
	err := w.file.Close()
	if errors.Is(err, os.ErrClosed) {
		return nil
	}
	return err
}
