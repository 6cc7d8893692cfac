// Package eventloop is gresty's I/O core: per-CPU event loops that own
// client connections, upstream connections, cosockets, UDP sockets and timers.
//
// # Ownership and threading
//
// A Loop is a goroutine locked to an OS thread (optionally pinned to a CPU)
// that waits on its own poller. Everything a loop owns — its Conns, Listeners,
// Timers, read buffer, chunk pool and cached clock — is touched by that
// goroutine alone, so nothing on the request path takes a lock. The only
// entries from other goroutines are Loop.Post, Loop.Stop, Loop.Shutdown and
// the Group and ListenerSet methods documented as safe for any goroutine.
// Every exported method says which goroutine may call it; "loop goroutine"
// means the goroutine running the Loop that owns the receiver, which is the
// goroutine every Handler, Accepter, Timer and posted function runs on.
//
// # Dispatch
//
// A loop iteration waits for I/O (the wait timeout is the nearest timer
// deadline), dispatches each ready descriptor, runs expired timers, then runs
// functions posted from other goroutines. Each callback the loop makes (an
// I/O event, a timer, a posted function, a deferred function) is one
// dispatch. Output written during a dispatch is queued and flushed with one
// writev per connection when the dispatch ends; if a socket would block, the
// rest goes out when the socket becomes writable. After the flush, functions
// registered with Loop.Defer run, each followed by its own flush.
//
// Handlers are never called re-entrantly from inside a Conn method: a Close
// or a write error inside a handler queues OnClose for the end of the
// current dispatch.
//
// # Connections
//
// A Conn is an accepted or dialed socket (TCP, unix stream or connected
// UDP). Reading is level-triggered with one read per readiness event into a
// buffer shared by the loop; Handler.OnData sees the bytes only for the
// duration of the call. A closed Conn is never reused: its fd is -1, every
// later write fails with ErrClosed, and its ID (a process-wide serial number
// starting at 1, nginx's connection number) is never handed out again, so a
// stale reference can never reach a connection that later got the same fd.
//
// # Pollers
//
// Two poller backends implement the same small interface: raw epoll on
// golang.org/x/sys/unix (the default; the timer deadline is the epoll_wait
// timeout and an eventfd wakes the loop) and gnet's pkg/netpoll. The
// environment variable GRESTY_EVENTLOOP_POLLER=netpoll changes the default
// for a process; tests run every scenario against both.
//
// The package is Linux only; on other systems it contains only this
// documentation.
package eventloop
