package wstransport

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/coder/websocket"

	"github.com/sessionkit/sessionkit/core"
)

// The write side of a server connection: a bounded queue that the reader
// goroutine flushes itself and that others (the liveness timer, the
// Manager) only append to, and the close that follows the last message.

// How long a close handshake may take before the TCP connection is dropped:
// a peer that is alive answers at once; one declared lost is presumed dead,
// so its close frame is sent and the connection dropped right after.
const (
	closeGrace = 2 * time.Second
	lostGrace  = 100 * time.Millisecond
)

// maxCloseText is the longest reason text a close frame can carry.
const maxCloseText = 123

// push queues data for writing. With inline set (the reader goroutine) the
// caller writes the queue itself if no one else is; otherwise a goroutine
// does, for as long as the queue has messages. A client that lets the queue
// fill is dropped.
func (c *conn) push(data []byte, inline bool) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	if len(c.queue) >= c.s.o.SendQueue {
		c.closing, c.closeStarted = true, true
		c.code, c.why = CodeSlowConsumer, ReasonSlowConsumer
		c.mu.Unlock()
		c.s.stats.slow.Add(1)
		c.drop() // the writer is stuck on this client: no close handshake
		return
	}
	c.queue = append(c.queue, data)
	start := !c.writing
	c.writing = true
	c.mu.Unlock()
	if start {
		if inline {
			c.flush(true)
		} else {
			go c.flush(false)
		}
	}
}

// closeWith closes the connection with code after what is queued, adding
// final to the queue first if it is not nil. lost says the liveness timer
// declared the connection lost: its session is detached at once, and the
// close handshake is not waited for. Calls after the first do nothing; it
// never blocks.
func (c *conn) closeWith(code websocket.StatusCode, why core.Reason, final []byte, lost bool) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	c.closing, c.code, c.why, c.lost = true, code, why, lost
	if final != nil {
		c.queue = append(c.queue, final)
	}
	start := !c.writing
	c.writing = true
	c.mu.Unlock()
	if start {
		go c.flush(false)
	}
}

func (c *conn) isClosing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing
}

// detachReason is the reason the session is detached with when the reader
// returns: service_restart when the server is shutting down, otherwise
// connection_lost (rule P7).
func (c *conn) detachReason() core.Reason {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.why == core.ReasonServiceRestart {
		return core.ReasonServiceRestart
	}
	return core.ReasonConnectionLost
}

// flush writes the queue until it is empty, then closes the connection if
// that was asked for. One flusher runs at a time: whoever set writing.
func (c *conn) flush(inline bool) {
	for {
		c.mu.Lock()
		if len(c.queue) == 0 {
			c.queue = nil // an idle connection holds no queue
			if c.closing && !c.closeStarted {
				c.closeStarted = true
				c.mu.Unlock()
				if inline {
					go c.finish() // the reader must go on reading the handshake
				} else {
					c.finish()
				}
				return // writing stays set: nothing more is written
			}
			c.writing = false
			c.mu.Unlock()
			return
		}
		data := c.queue[0]
		c.queue[0] = nil
		c.queue = c.queue[1:]
		c.mu.Unlock()

		// A deadline on the socket rather than a context: no timer and
		// no allocation per write.
		_ = c.tcp.SetWriteDeadline(time.Now().Add(c.s.o.WriteTimeout))
		err := c.ws.Write(context.Background(), websocket.MessageText, data)
		timedOut := errors.Is(err, os.ErrDeadlineExceeded)
		if err != nil {
			c.mu.Lock()
			if !c.closing {
				c.closing, c.why = true, core.ReasonConnectionLost
				if timedOut {
					c.code, c.why = CodeSlowConsumer, ReasonSlowConsumer
					c.s.stats.slow.Add(1)
				}
			}
			c.closeStarted, c.queue = true, nil
			c.mu.Unlock()
			c.drop()
			return
		}
	}
}

// finish closes the connection with the close frame asked for. A lost
// connection's session is detached first, so the disconnect applies at
// the moment the loss is found.
func (c *conn) finish() {
	c.mu.Lock()
	code, why, lost := c.code, string(c.why), c.lost
	c.mu.Unlock()
	grace := closeGrace
	if lost {
		c.s.detach(c, core.ReasonConnectionLost)
		grace = lostGrace
	}
	if len(why) > maxCloseText {
		why = why[:maxCloseText]
	}
	// Close waits for the peer's close frame, which the reader goroutine
	// reads; dropping the connection ends the wait if none comes.
	_ = c.tcp.SetWriteDeadline(time.Time{})
	t := time.AfterFunc(grace, c.drop)
	_ = c.ws.Close(code, why)
	t.Stop()
	c.drop()
}

// Buffer sizes of a connection. net/http hands a hijacked connection 4 KiB
// buffers each way, which an idle connection would hold for its lifetime.
// Keepalives and acks are about a hundred bytes; a larger message costs
// another read or write call, as bufio passes it through.
const (
	readBufferSize  = 512
	writeBufferSize = 256
)

// hijacker hands websocket.Accept the connection with small buffers, and
// keeps the net.Conn for drop.
type hijacker struct {
	http.ResponseWriter
	tcp net.Conn
}

func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	tcp, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.tcp = tcp
	if err := brw.Writer.Flush(); err != nil {
		return nil, nil, err
	}
	if brw.Reader.Buffered() > 0 {
		// The client did not wait for the handshake's answer: keep the
		// bytes it sent ahead, in net/http's buffer.
		return tcp, bufio.NewReadWriter(brw.Reader, bufio.NewWriterSize(tcp, writeBufferSize)), nil
	}
	return tcp, bufio.NewReadWriter(bufio.NewReaderSize(tcp, readBufferSize), bufio.NewWriterSize(tcp, writeBufferSize)), nil
}

// Unwrap lets http.ResponseController find the writer underneath.
func (h *hijacker) Unwrap() http.ResponseWriter { return h.ResponseWriter }
