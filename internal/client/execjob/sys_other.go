//go:build unix && !linux

package execjob

import (
	"os"
	"syscall"
)

func sysProcAttr(foreground bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: !foreground}
}

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
