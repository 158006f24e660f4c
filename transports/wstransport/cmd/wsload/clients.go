package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/sessionkit/sessionkit/transports/wstransport"
)

// pool is the client side: n connections keeping alive, spread over
// several loopback source addresses so the ephemeral ports of one address
// do not run out.
type pool struct {
	impl     string
	url      string
	interval time.Duration
	clients  []*http.Client
	acks     *atomic.Int64
	fails    *atomic.Int64

	mu    sync.Mutex
	skc   []*wstransport.Client
	echos []*echoClient
}

func newPool(impl, url string, interval time.Duration, sources int, acks, fails *atomic.Int64) *pool {
	p := &pool{impl: impl, url: url, interval: interval, acks: acks, fails: fails}
	for i := 0; i < sources; i++ {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i))}}
		p.clients = append(p.clients, &http.Client{Transport: &http.Transport{DialContext: d.DialContext}})
	}
	return p
}

// open opens n connections, concurrency at a time.
func (p *pool) open(ctx context.Context, n, concurrency int) error {
	sem := make(chan struct{}, concurrency)
	errc := make(chan error, 1)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		select {
		case sem <- struct{}{}:
		case err := <-errc:
			wg.Wait()
			return err
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			if err := p.open1(ctx, i); err != nil {
				select {
				case errc <- fmt.Errorf("connection %d: %w", i, err):
				default:
				}
			}
		}(i)
	}
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

func (p *pool) open1(ctx context.Context, i int) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	hc := p.clients[i%len(p.clients)]
	if p.impl == "echo" {
		ws, _, err := websocket.Dial(ctx, p.url, &websocket.DialOptions{HTTPClient: hc})
		if err != nil {
			return err
		}
		e := &echoClient{ws: ws, done: make(chan struct{})}
		p.mu.Lock()
		p.echos = append(p.echos, e)
		p.mu.Unlock()
		go e.run(p.interval, p.acks, p.fails)
		return nil
	}
	c, err := wstransport.Dial(ctx, p.url, wstransport.DialOptions{
		HTTPClient: hc,
		OnAck:      func(wstransport.Ack) { p.acks.Add(1) },
	})
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.skc = append(p.skc, c)
	p.mu.Unlock()
	if _, err := c.Login(ctx, json.RawMessage(`{"user":"u`+strconv.Itoa(i)+`"}`)); err != nil {
		return err
	}
	return nil
}

// close closes every connection, concurrency at a time, and counts the
// sessionkit clients that were not live any more.
func (p *pool) close(concurrency int) {
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for _, c := range p.skc {
		if c.Status().State != wstransport.StateLive {
			p.fails.Add(1)
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() { defer wg.Done(); c.Close(); <-sem }()
	}
	for _, e := range p.echos {
		sem <- struct{}{}
		wg.Add(1)
		go func() { defer wg.Done(); e.close(); <-sem }()
	}
	wg.Wait()
}

// echoClient sends the same keepalive message to the echo server every
// interval and waits for it to come back, as a sessionkit client does.
type echoClient struct {
	ws   *websocket.Conn
	done chan struct{}
	once sync.Once
}

func (e *echoClient) run(interval time.Duration, acks, fails *atomic.Int64) {
	t := time.NewTimer(interval)
	defer t.Stop()
	for seq := 1; ; seq++ {
		select {
		case <-t.C:
		case <-e.done:
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		msg := `{"type":"keepalive","seq":` + strconv.Itoa(seq) + `}`
		err := e.ws.Write(ctx, websocket.MessageText, []byte(msg))
		if err == nil {
			_, _, err = e.ws.Read(ctx)
		}
		cancel()
		if err != nil {
			select {
			case <-e.done:
			default:
				fails.Add(1)
			}
			return
		}
		acks.Add(1)
		t.Reset(interval)
	}
}

func (e *echoClient) close() {
	e.once.Do(func() { close(e.done) })
	_ = e.ws.Close(websocket.StatusNormalClosure, "")
}
