package cluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// start runs a part of the cluster in the background, its output in
// logs/NAME.log, and appends "NAME PID" to the pid file, from which the harness
// (hack/e2e.sh) stops every process it started, in reverse order, whatever
// happens to this one.
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
	if _, err := fmt.Fprintf(pids, "%s %d\n", name, cmd.Process.Pid); err != nil {
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
