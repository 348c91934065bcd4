package awxtest

import "net"

// StartOn starts serving on addr, e.g. "127.0.0.1:18052", instead of a random
// port: for a playground whose manifests name fixed URLs.
func (s *Server) StartOn(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	_ = s.hs.Listener.Close() // the random port NewUnstartedServer reserved
	s.hs.Listener = l
	s.hs.Start()
	return nil
}
