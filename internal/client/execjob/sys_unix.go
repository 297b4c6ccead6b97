//go:build unix

package execjob

import (
	"os"
	"syscall"
)

// signalChild sends s to the child, or to its whole process group when it
// leads one.
func signalChild(p *os.Process, s os.Signal, foreground bool) {
	sig, ok := s.(syscall.Signal)
	if !ok {
		return
	}
	if !foreground {
		if err := syscall.Kill(-p.Pid, sig); err == nil {
			return
		}
	}
	_ = p.Signal(sig)
}
