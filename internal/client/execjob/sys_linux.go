package execjob

import (
	"os"
	"syscall"
)

func sysProcAttr(foreground bool) *syscall.SysProcAttr {
	// Pdeathsig: if shortfuse itself is killed (SIGKILL, OOM), the child
	// does not outlive it holding the credentials. Linux sends it when the
	// thread that started the child ends; Go keeps its threads unless a
	// goroutine exits while locked to one, which this package never does.
	return &syscall.SysProcAttr{Setpgid: !foreground, Pdeathsig: syscall.SIGKILL}
}

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
