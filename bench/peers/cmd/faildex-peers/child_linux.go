package main

import (
	"os/exec"
	"syscall"
)

// dieWithParent has Linux stop a server child (searchd, the Python side)
// when this program dies without stopping it, killed or crashed.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
