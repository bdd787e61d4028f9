// Command latency is an HTTP proxy that holds every request for a fixed
// delay before passing it on: put in front of a server on loopback, it
// makes each request cost what a round trip to a distant destination
// does, so bench/peers.sh (LATENCY=20ms) can measure how the tools cope
// with latency that this machine's kernel (no netem) cannot inject.
//
//	latency -listen 127.0.0.1:9001 -to 127.0.0.1:9000 -delay 20ms
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	to := flag.String("to", "", "host:port of the server behind the proxy")
	delay := flag.Duration("delay", 20*time.Millisecond, "how long each request is held before it is passed on")
	flag.Parse()
	if err := serve(*listen, *to, *delay); err != nil {
		fmt.Fprintln(os.Stderr, "latency:", err)
		os.Exit(1)
	}
}

func serve(listen, to string, delay time.Duration) error {
	if to == "" {
		return errors.New("-to is required: the host:port of the server behind the proxy")
	}
	target := &url.URL{Scheme: "http", Host: to}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host // the signature covers the Host header
		},
		Transport: &http.Transport{
			// One connection per request in flight, kept: the proxy must
			// not add connection set-ups the tools do not pay.
			MaxIdleConns:        0,
			MaxIdleConnsPerHost: 4096,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
		FlushInterval: -1,
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", listen, err)
	}
	fmt.Println(ln.Addr())
	hold := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
		proxy.ServeHTTP(w, r)
	})
	return http.Serve(ln, hold)
}
