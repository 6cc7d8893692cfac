package http

// This file is what ngx_lua's timers and subrequests need of a connection
// and a request beyond the public fields. Every method here runs on the
// request's loop.

// ListenText returns the address of the listening socket the connection
// came in on, as nginx's addr_text of the listening ("0.0.0.0:80"):
// timers created by a request name it in their log lines.
func (c *Conn) ListenText() string { return c.la.Opt.Text }
