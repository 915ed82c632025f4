package server

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Absolute links (feeds, OpenSearch, oEmbed, citations, embed snippets)
// need the server's public scheme and host. A request's Host header is
// chosen by the client, so it is never taken on trust: Config.BaseURL says
// what the public URL is, and without it only the listen address and the
// configured allowed hosts are believed.

// checkBaseURL validates and normalises cfg.BaseURL and cfg.AllowedHosts.
func checkBaseURL(cfg *Config) error {
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		switch {
		case err != nil:
			return fmt.Errorf("base URL %q: %v", cfg.BaseURL, err)
		case u.Scheme != "http" && u.Scheme != "https":
			return fmt.Errorf("base URL %q: want an http or https URL such as https://faildex.example", cfg.BaseURL)
		case u.Host == "" || !hostPattern.MatchString(u.Host):
			return fmt.Errorf("base URL %q: want a host name or address", cfg.BaseURL)
		case u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/"):
			return fmt.Errorf("base URL %q: want only a scheme and a host (faildex serves from the root path)", cfg.BaseURL)
		}
		cfg.BaseURL = u.Scheme + "://" + strings.ToLower(u.Host)
	}
	for i, h := range cfg.AllowedHosts {
		if !hostPattern.MatchString(h) {
			return fmt.Errorf("allowed host %q: want host or host:port", h)
		}
		cfg.AllowedHosts[i] = strings.ToLower(h)
	}
	return nil
}

// baseURL returns the scheme and host of the server's absolute links for
// r: Config.BaseURL when set; else the request's scheme and Host when the
// host is trusted (see trustedHost); else the listen address.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.BaseURL != "" {
		return s.cfg.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + s.publicHost(r)
}

// publicHost is the host[:port] of baseURL.
func (s *Server) publicHost(r *http.Request) string {
	if s.cfg.BaseURL != "" {
		return strings.TrimPrefix(strings.TrimPrefix(s.cfg.BaseURL, "https://"), "http://")
	}
	host := strings.ToLower(r.Host)
	if s.trustedHost(r, host) {
		return host
	}
	return s.listenHost(r)
}

// trustedHost reports whether a Host header names this server: one of
// Config.AllowedHosts, or the listen address (as configured or as bound),
// or for a listener on a loopback or unspecified address, localhost,
// 127.0.0.1 or [::1] with its port.
func (s *Server) trustedHost(r *http.Request, host string) bool {
	if !hostPattern.MatchString(host) {
		return false
	}
	for _, h := range s.cfg.AllowedHosts {
		if host == h {
			return true
		}
	}
	for _, addr := range s.listenAddrs(r) {
		if host == addr {
			return true
		}
		h, port, err := net.SplitHostPort(addr)
		if err != nil {
			continue
		}
		if ip := net.ParseIP(h); h == "" || h == "localhost" || (ip != nil && (ip.IsLoopback() || ip.IsUnspecified())) {
			for _, alias := range []string{"localhost", "127.0.0.1", "[::1]"} {
				if host == alias+":"+port {
					return true
				}
			}
		}
	}
	return false
}

// listenAddrs are the configured listen address, the bound one, and the
// local address r's connection arrived on.
func (s *Server) listenAddrs(r *http.Request) []string {
	var out []string
	if s.cfg.Addr != "" {
		out = append(out, strings.ToLower(s.cfg.Addr))
	}
	if s.ln != nil {
		out = append(out, s.ln.Addr().String())
	}
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		out = append(out, a.String())
	}
	return out
}

// listenHost is the host[:port] links name when the request's Host is not
// trusted: the bound listen address, or the one r's connection arrived on
// (with localhost for an unspecified address), else "localhost".
func (s *Server) listenHost(r *http.Request) string {
	var addr string
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		addr = a.String()
	} else if s.ln != nil {
		addr = s.ln.Addr().String()
	}
	if addr != "" {
		if h, port, err := net.SplitHostPort(addr); err == nil {
			if ip := net.ParseIP(h); ip != nil && ip.IsUnspecified() {
				return "localhost:" + port
			}
			return net.JoinHostPort(h, port)
		}
	}
	return "localhost"
}
