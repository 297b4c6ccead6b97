package execjob

import "syscall"

func sysProcAttr(foreground bool) *syscall.SysProcAttr {
	// Pdeathsig: if shortfuse itself is killed (SIGKILL, OOM), the child
	// does not outlive it holding the credentials. Linux sends it when the
	// thread that started the child ends; Go keeps its threads unless a
	// goroutine exits while locked to one, which this package never does.
	return &syscall.SysProcAttr{Setpgid: !foreground, Pdeathsig: syscall.SIGKILL}
}
