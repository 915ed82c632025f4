package server

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"path"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzhttp"
	"github.com/rs/zerolog/hlog"
)

// middleware wraps the whole router (so 404s and 405s pass through it too):
// request ids, access logs, metrics, panic recovery, security headers,
// request bounds and the per-request deadline.
func (s *Server) middleware(next http.Handler) http.Handler {
	h := next
	h = s.bound(h)
	h = s.securityHeaders(h)
	h = compress(h)
	h = s.recoverer(h)
	h = s.metrics.instrument(h)
	h = hlog.AccessHandler(func(r *http.Request, status, size int, d time.Duration) {
		ev := hlog.FromRequest(r).Info()
		if status >= 500 {
			ev = hlog.FromRequest(r).Error()
		}
		ev.Str("method", r.Method).Str("path", r.URL.Path).Int("status", status).
			Int("size", size).Dur("took", d).Msg("request")
	})(h)
	h = hlog.RemoteAddrHandler("remote")(h)
	h = hlog.RequestIDHandler("req_id", "X-Request-Id")(h)
	h = hlog.NewHandler(s.log)(h)
	return h
}

// compress gzips text responses (HTML, CSS, JavaScript, JSON, XML, SVG,
// JSON Lines) of 1 KB or more for clients that accept it.
func compress(next http.Handler) http.Handler {
	wrap, err := gzhttp.NewWrapper(gzhttp.ContentTypeFilter(compressible))
	if err != nil {
		panic(err) // the options are constant
	}
	return wrap(next)
}

func compressible(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	if strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml") {
		return true
	}
	switch mt {
	case "application/json", "application/javascript", "application/x-ndjson", "application/jsonl", "application/xml":
		return true
	}
	return false
}

// recoverer turns a panic into a logged 500.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				hlog.FromRequest(r).Error().Str("panic", fmt.Sprint(v)).Bytes("stack", debug.Stack()).Msg("panic")
				err := fmt.Errorf("panic: %v", v)
				s.writeError(w, r, err)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// securityHeaders sets headers common to every response. /embed sets its own
// frame-ancestors.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		if r.URL.Path != "/embed" {
			h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'")
			h.Set("X-Frame-Options", "SAMEORIGIN")
		}
		next.ServeHTTP(w, r)
	})
}

// bound rejects CONNECT and request targets that are not paths, overlong
// URLs, malformed query strings and bodies on read-only routes; redirects
// paths with dot segments or repeated slashes to their clean form, always
// within the site; and gives each request a deadline.
func (s *Server) bound(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodConnect {
			// No route takes CONNECT: faildex is not a proxy.
			w.Header().Set("Allow", "GET, HEAD")
			s.writeError(w, r, errMethodNotAllowed)
			return
		}
		if !strings.HasPrefix(r.URL.Path, "/") {
			// "OPTIONS *" and anything else without a path.
			s.writeError(w, r, &httpError{status: http.StatusBadRequest, msg: "the request target must be a path"})
			return
		}
		if p := cleanPath(r.URL.Path); p != r.URL.Path {
			// Only the path and query go into Location, never the scheme
			// or host of an absolute-form request.
			loc := (&url.URL{Path: p, RawQuery: r.URL.RawQuery}).String()
			w.Header().Set("Location", loc)
			w.WriteHeader(http.StatusMovedPermanently)
			return
		}
		if len(r.RequestURI) > maxURLBytes {
			err := &httpError{status: http.StatusRequestURITooLong, msg: "the URL is longer than " + strconv.Itoa(maxURLBytes) + " bytes"}
			s.writeError(w, r, err)
			return
		}
		if _, err := url.ParseQuery(r.URL.RawQuery); err != nil {
			// r.URL.Query() would silently drop the malformed pair and
			// answer another question than the one asked.
			err := &httpError{status: http.StatusBadRequest, msg: "the query string is malformed: " + err.Error()}
			s.writeError(w, r, err)
			return
		}
		// Only a PUT of an incident carries a report; other bodies are
		// small. An update waits for its generation to be written.
		limit, timeout := int64(1<<10), s.cfg.SearchTimeout
		if r.Method == http.MethodPut || r.Method == http.MethodDelete {
			limit, timeout = putBodyLimit, updateTimeout
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// cleanPath returns the canonical form of a path (which starts with '/'):
// no dot segments, no repeated slashes, the trailing slash kept. Its result
// never starts with "//", so as a Location it stays on this site.
func cleanPath(p string) string {
	np := path.Clean(p)
	if strings.HasSuffix(p, "/") && np != "/" {
		np += "/"
	}
	return np
}

// cors answers CORS for the API: allowed origins get the headers, and
// preflight requests are answered here. With a list of origins (not "*"),
// every response varies by Origin, so that caches keep answers for allowed
// and other origins apart. A plain OPTIONS request is answered with the
// allowed methods instead of running the handler.
func (s *Server) cors(next http.Handler) http.Handler {
	allowAll := false
	allowed := map[string]bool{}
	for _, o := range s.cfg.CORSOrigins {
		o = strings.TrimRight(strings.TrimSpace(o), "/")
		if o == "*" {
			allowAll = true
		}
		allowed[o] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		origin := r.Header.Get("Origin")
		ok := origin != "" && (allowAll || allowed[origin])
		if !allowAll && len(allowed) > 0 {
			h.Add("Vary", "Origin")
		}
		if ok {
			if allowAll {
				h.Set("Access-Control-Allow-Origin", "*")
			} else {
				h.Set("Access-Control-Allow-Origin", origin)
			}
			h.Set("Access-Control-Expose-Headers", "Link, X-Request-Id, X-Total-Count")
		}
		if r.Method == http.MethodOptions {
			if r.Header.Get("Access-Control-Request-Method") != "" {
				if !ok {
					s.writeError(w, r, &httpError{status: http.StatusForbidden, msg: "origin not allowed", param: "Origin"})
					return
				}
				h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
				h.Set("Access-Control-Allow-Headers", "Accept, Content-Type")
				h.Set("Access-Control-Max-Age", "600")
			}
			h.Set("Allow", "GET, HEAD, OPTIONS")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
