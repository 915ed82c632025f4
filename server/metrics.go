package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus metrics, on a registry of its own.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	reloads  *prometheus.CounterVec
	rejected prometheus.Counter
	srv      *Server
}

// sizer is implemented by engines that know their index's size on disk.
type sizer interface{ IndexSize() int64 }

func newMetrics(s *Server) *metrics {
	m := &metrics{reg: prometheus.NewRegistry(), srv: s}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "faildex_http_requests_total", Help: "HTTP requests by route and status code.",
	}, []string{"route", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "faildex_http_request_duration_seconds",
		Help:    "HTTP request latency by route.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"route"})
	m.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "faildex_index_reloads_total", Help: "Index reloads by outcome.",
	}, []string{"outcome"})
	m.rejected = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "faildex_searches_rejected_total", Help: "Searches refused by admission control (503).",
	})
	running := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "faildex_searches_running", Help: "Searches holding an admission slot.",
	}, func() float64 { return float64(s.admission.running()) })
	docs := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "faildex_index_documents", Help: "Incidents in the index being served.",
	}, s.engineGauge(func(eng Searcher) float64 { return float64(eng.DocCount()) }))
	size := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "faildex_index_size_bytes", Help: "Size on disk of the index being served.",
	}, s.engineGauge(func(eng Searcher) float64 {
		if sz, ok := eng.(sizer); ok {
			return float64(sz.IndexSize())
		}
		return 0
	}))
	m.reg.MustRegister(m.requests, m.latency, m.reloads, m.rejected, running, docs, size,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// engineGauge returns a gauge function that reads f of the current engine,
// or 0 when there is none.
func (s *Server) engineGauge(f func(Searcher) float64) func() float64 {
	return func() float64 {
		eng, release, err := s.engines.acquire()
		if err != nil {
			return 0
		}
		defer release()
		return f(eng)
	}
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// statusRecorder remembers the status code written.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Flush lets streaming handlers flush through the recorder.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (m *metrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := m.srv.routeName(r)
		rec := &statusRecorder{ResponseWriter: w}
		start := time.Now()
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		m.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
		m.requests.WithLabelValues(route, strconv.Itoa(rec.status)).Inc()
	})
}
