package cluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// start runs a part of the cluster in the background, its output in
// logs/NAME.log, and appends "NAME PID START" to the pid file, from which the
// harness (hack/e2e.sh) stops every process it started, in reverse order,
// whatever happens to this one. START, the process's start time, tells it from a
// later process that reuses the PID.
func (c *Cluster) start(name string, path string, args ...string) error {
	logFile, err := os.Create(filepath.Join(c.cfg.Dir, "logs", name+".log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(os.Environ(), "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", name, err)
	}
	pids, err := os.OpenFile(filepath.Join(c.cfg.Dir, "pids"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer pids.Close()
	started, err := startTime(cmd.Process.Pid)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(pids, "%s %d %s\n", name, cmd.Process.Pid, started); err != nil {
		return err
	}
	go func() {
		err := cmd.Wait()
		c.mu.Lock()
		defer c.mu.Unlock()
		c.exited = append(c.exited, fmt.Sprintf("%s exited (%v)", name, err))
	}()
	return nil
}

// died says which of the cluster's processes have exited: none should before
// hack/e2e.sh stops them.
func (c *Cluster) died() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.exited) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(c.exited, ", "))
}

// startTime is the 22nd field of /proc/PID/stat: when the process started, in
// clock ticks after boot. The command's name (field 2) may hold spaces, so the
// fields are counted after its closing parenthesis.
func startTime(pid int) (string, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", err
	}
	i := strings.LastIndexByte(string(stat), ')')
	fields := strings.Fields(string(stat[i+1:]))
	if i < 0 || len(fields) < 20 {
		return "", fmt.Errorf("/proc/%d/stat has no start time", pid)
	}
	return fields[19], nil
}
