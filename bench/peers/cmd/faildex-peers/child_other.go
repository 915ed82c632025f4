//go:build !linux

package main

import "os/exec"

// dieWithParent does nothing outside Linux: children are stopped by Close.
func dieWithParent(*exec.Cmd) {}
