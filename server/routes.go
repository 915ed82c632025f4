package server

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gorilla/mux"
)

// route is one entry of the route table.
type route struct {
	name    string // names the route in metrics
	path    string // a gorilla/mux path template
	prefix  bool   // path is a prefix: the route serves everything under it
	methods []string
	// json marks the routes that answer JSON; writeError answers their
	// errors in JSON too, and every other route's as an HTML page.
	json bool
	h    http.Handler
}

// routeTable lists every route the server answers. Order matters where
// paths overlap: /incidents/{id}.bib comes before /incidents/{id}. Routes
// that search pass admission control (admit); /metrics is left out when it
// is served on its own address (Config.MetricsAddr).
func (s *Server) routeTable() []route {
	read := []string{http.MethodGet, http.MethodHead}
	api := []string{http.MethodGet, http.MethodHead, http.MethodOptions}
	rs := []route{
		// The JSON API; browsers on the allowed origins may call it (CORS).
		{name: "api_search", path: "/api/v1/search", methods: api, json: true, h: s.cors(s.admit(s.withEngine(s.handleSearch), admitAll))},
		{name: "api_incident", path: "/api/v1/incidents/{id}", methods: api, json: true, h: s.cors(s.withEngine(s.handleIncident))},
		{name: "api_similar", path: "/api/v1/incidents/{id}/similar", methods: api, json: true, h: s.cors(s.admit(s.withEngine(s.handleSimilar), admitAll))},
		{name: "api_facets", path: "/api/v1/facets", methods: api, json: true, h: s.cors(s.handle(s.handleFacets))},
		{name: "api_facet_values", path: "/api/v1/facets/{category}", methods: api, json: true, h: s.cors(s.admit(s.withEngine(s.handleFacetValues), admitAll))},
		{name: "api_suggest", path: "/api/v1/suggest", methods: api, json: true, h: s.cors(s.admit(s.withEngine(s.handleSuggest), admitAll))},
		{name: "api_pivot", path: "/api/v1/pivot", methods: api, json: true, h: s.cors(s.admit(s.withEngine(s.handlePivot), admitAll))},

		// Operations.
		{name: "healthz", path: "/healthz", methods: read, h: http.HandlerFunc(handleHealthz)},
		{name: "readyz", path: "/readyz", methods: read, json: true, h: s.handle(s.handleReady)},
		{name: "admin_reload", path: "/admin/reload", methods: []string{http.MethodPost}, json: true, h: s.handle(s.handleReload)},

		// What lets other sites and programs use faildex: the OpenAPI
		// document, exports, feeds, the widget and its script, OpenSearch,
		// oEmbed and BibTeX citations.
		{name: "api_openapi", path: "/api/v1/openapi.json", methods: api, json: true, h: s.cors(s.handle(s.handleOpenAPI))},
		{name: "api_export", path: "/api/v1/export", methods: api, json: true, h: s.cors(s.admit(s.withEngine(s.handleExport), admitExports))},
		{name: "feed_atom", path: "/feed.atom", methods: read, h: s.admit(s.withEngine(s.handleAtom), admitAll)},
		{name: "feed_json", path: "/feed.json", methods: read, json: true, h: s.admit(s.withEngine(s.handleJSONFeed), admitAll)},
		{name: "embed", path: "/embed", methods: read, h: s.admit(s.withEngine(s.handleEmbed), admitAll)},
		{name: "embed_js", path: "/embed.js", methods: read, h: s.handle(s.handleEmbedJS)},
		{name: "opensearch", path: "/opensearch.xml", methods: read, h: s.handle(s.handleOpenSearch)},
		{name: "oembed", path: "/oembed", methods: read, json: true, h: s.admit(s.withEngine(s.handleOEmbed), admitAll)},
		{name: "incident_bib", path: "/incidents/{id}.bib", methods: read, h: s.withEngine(s.handleBibTeX)},

		// The HTML pages and their assets.
		{name: "ui_search", path: searchPagePath, methods: read, h: s.admit(s.withEngine(s.handleSearchPage), admitQueries)},
		{name: "ui_incident", path: "/incidents/{id}", methods: read, h: s.withEngine(s.handleIncidentPage)},
		{name: "ui_explore", path: explorePagePath, methods: read, h: s.admit(s.withEngine(s.handleExplorePage), admitAll)},
		{name: "static", path: "/static/", prefix: true, methods: read, h: s.serveStatic()},
	}
	if s.cfg.Updates != nil && s.cfg.AdminToken != "" {
		// Curators' updates (updates.go); without them, PUT and DELETE
		// are 405 like any method a path does not take.
		rs = append(rs,
			route{name: "api_incident_put", path: "/api/v1/incidents/{id}", methods: []string{http.MethodPut}, json: true, h: s.handle(s.handlePut)},
			route{name: "api_incident_delete", path: "/api/v1/incidents/{id}", methods: []string{http.MethodDelete}, json: true, h: s.handle(s.handleDelete)})
	}
	if s.cfg.MetricsAddr == "" {
		rs = append(rs, route{name: "metrics", path: "/metrics", methods: read, h: s.metricsHandler()})
	}
	return rs
}

// routes registers the route table, and the answers to requests that match
// no route (404) or none with their method (405). Under /api/ those carry
// CORS headers too, so that a browser on an allowed origin can read the
// error instead of a CORS failure.
func (s *Server) routes() {
	r := s.router
	// Paths are cleaned by bound, which redirects only within the site;
	// mux's own cleaning would redirect a CONNECT or an absolute-form
	// request to the host it names.
	r.SkipClean(true)
	s.jsonRoutes = map[string]bool{}
	for _, rt := range s.routeTable() {
		var mr *mux.Route
		if rt.prefix {
			mr = r.PathPrefix(rt.path).Handler(rt.h)
		} else {
			mr = r.Handle(rt.path, rt.h)
		}
		mr.Methods(rt.methods...).Name(rt.name)
		if rt.json {
			s.jsonRoutes[rt.name] = true
		}
	}
	notFound := s.handle(func(w http.ResponseWriter, r *http.Request) error { return errNotFound })
	notAllowed := s.handle(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Allow", strings.Join(s.allowedMethods(r), ", "))
		return errMethodNotAllowed
	})
	r.NotFoundHandler = s.corsUnderAPI(notFound)
	r.MethodNotAllowedHandler = s.corsUnderAPI(notAllowed)
}

// corsUnderAPI answers CORS (see cors) for requests under /api/ and passes
// others to next as they are.
func (s *Server) corsUnderAPI(next http.Handler) http.Handler {
	withCORS := s.cors(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isAPI(r.URL.Path) {
			withCORS.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isAPI reports whether a path is under the JSON API's prefix.
func isAPI(path string) bool {
	return strings.HasPrefix(path, "/api/")
}

// answersJSON reports whether r is answered in JSON, errors included: a
// route of the table says so with its json mark, and a request that matches
// no route (or none with its method) is when its path is under /api/.
func (s *Server) answersJSON(r *http.Request) bool {
	var m mux.RouteMatch
	if s.router.Match(r, &m) && m.MatchErr == nil && m.Route != nil {
		return s.jsonRoutes[m.Route.GetName()]
	}
	return isAPI(r.URL.Path)
}

// allowedMethods lists the methods the router accepts for r's path, for the
// Allow header of a 405 (RFC 9110 requires it to name them).
func (s *Server) allowedMethods(r *http.Request) []string {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions} {
		probe := r.Clone(r.Context())
		probe.Method = m
		var match mux.RouteMatch
		if s.router.Match(probe, &match) && match.MatchErr == nil {
			allowed = append(allowed, m)
		}
	}
	return allowed
}

// routeName returns the name of the route r matches, for metrics.
func (s *Server) routeName(r *http.Request) string {
	var m mux.RouteMatch
	if s.router.Match(r, &m) && m.Route != nil {
		if n := m.Route.GetName(); n != "" {
			return n
		}
	}
	if m.MatchErr == mux.ErrMethodMismatch {
		return "method_not_allowed"
	}
	return "not_found"
}

func handleHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}
