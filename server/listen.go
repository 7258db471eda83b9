package server

import (
	"context"
	"net"
	"syscall"
)

// listen opens a TCP listener. With reusePort, SO_REUSEPORT lets a new
// Warden process bind the same address while the old one drains, so a
// restart on one machine refuses no connection.
func listen(ctx context.Context, addr string, reusePort bool) (net.Listener, error) {
	lc := net.ListenConfig{}
	if reusePort {
		lc.Control = func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, soReusePort, 1)
			})
			if err != nil {
				return err
			}
			return serr
		}
	}
	return lc.Listen(ctx, "tcp", addr)
}

// soReusePort is SO_REUSEPORT on Linux.
const soReusePort = 0xf
