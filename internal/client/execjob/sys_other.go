//go:build unix && !linux

package execjob

import "syscall"

func sysProcAttr(foreground bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: !foreground}
}
