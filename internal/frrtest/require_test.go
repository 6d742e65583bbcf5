package frrtest

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// outcomeTB records how Require ended a test: Fatalf and Skipf stop the goroutine as the real
// ones do, so that nothing after them runs.
type outcomeTB struct {
	testing.TB
	outcome string
}

func (o *outcomeTB) Helper() {}
func (o *outcomeTB) Fatalf(format string, args ...any) {
	o.outcome = "fail: " + fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (o *outcomeTB) Skip(args ...any) {
	o.outcome = "skip: " + fmt.Sprint(args...)
	runtime.Goexit()
}
func (o *outcomeTB) Skipf(format string, args ...any) {
	o.outcome = "skip: " + fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// require runs Require(v) on a recording TB and returns how it ended ("" when it let the test run).
func require(v Version) string {
	o := &outcomeTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Require(o, v)
	}()
	<-done
	return o.outcome
}

// TestRequireMissingVersion: with the FRR 10.3 root file system hidden, the supported versions
// still include 10.3, and Require fails it under CI=true and skips it otherwise: a test that
// loops over Supported() cannot pass on zero cases in CI.
func TestRequireMissingVersion(t *testing.T) {
	t.Setenv("FRR_RENDERER_CACHE", t.TempDir()) // no trixie-frr/.complete: 10.3 is missing
	t.Setenv("FRR_RENDERER_NO_FRR", "")
	if got := Supported(); len(got) != 2 || got[0] != FRR8 || got[1] != FRR10 {
		t.Fatalf("Supported() = %v, want [8.4 10.3]", got)
	}
	for _, v := range Versions() {
		if v == FRR10 {
			t.Fatalf("Versions() = %v lists 10.3 with its root file system hidden", Versions())
		}
	}
	for _, tt := range []struct{ ci, want string }{
		{ci: "true", want: "fail: "},
		{ci: "", want: "skip: "},
	} {
		t.Run("CI="+tt.ci, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			if got := require(FRR10); !strings.HasPrefix(got, tt.want) {
				t.Errorf("Require(10.3) = %q, want %q...", got, tt.want)
			}
		})
	}
	t.Run("FRR_RENDERER_NO_FRR", func(t *testing.T) {
		t.Setenv("CI", "true")
		t.Setenv("FRR_RENDERER_NO_FRR", "1")
		if got := require(FRR10); !strings.HasPrefix(got, "skip: ") {
			t.Errorf("Require(10.3) = %q, want a skip: make unit opts out of FRR even in CI", got)
		}
	})
}
