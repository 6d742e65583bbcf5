package testbin

import (
	"bytes"
	"sync"
)

// SyncBuffer is a bytes.Buffer that a running command (a process's output, a logger's
// goroutines) and the test reading it share.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
