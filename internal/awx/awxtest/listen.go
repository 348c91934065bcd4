package awxtest

import "github.com/tokenoperator/token-operator/internal/testserver"

// StartOn starts serving on addr, e.g. "127.0.0.1:18052", instead of a random
// port: for a playground whose manifests name fixed URLs.
func (s *Server) StartOn(addr string) error { return testserver.StartOn(s.hs, addr) }
