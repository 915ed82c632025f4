package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/search"
	"github.com/faildex/faildex/server"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/*.golden.json from the current responses")

// docURL is where the tests register the OpenAPI document with the schema
// compiler; $refs inside it resolve against it.
const docURL = "https://faildex.test/api/v1/openapi.json"

// openAPI is the parsed OpenAPI document and a compiler for its schemas.
type openAPI struct {
	raw      []byte
	doc      map[string]any
	mu       sync.Mutex
	compiler *jsonschema.Compiler
	schemas  map[string]*jsonschema.Schema
}

func loadOpenAPI(tb testing.TB) *openAPI {
	tb.Helper()
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		tb.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		tb.Fatalf("openapi.json: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(docURL, doc); err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		tb.Fatal(err)
	}
	return &openAPI{raw: raw, doc: m, compiler: c, schemas: map[string]*jsonschema.Schema{}}
}

// pointerToken escapes a JSON Pointer token (RFC 6901) for a URL fragment.
func pointerToken(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
	return url.PathEscape(s)
}

// schema compiles the schema at a JSON Pointer of the document.
func (o *openAPI) schema(tb testing.TB, ptr string) *jsonschema.Schema {
	tb.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if s, ok := o.schemas[ptr]; ok {
		return s
	}
	s, err := o.compiler.Compile(docURL + "#" + ptr)
	if err != nil {
		tb.Fatalf("compiling %s: %v", ptr, err)
	}
	o.schemas[ptr] = s
	return s
}

// at returns the node at a JSON Pointer of the document.
func (o *openAPI) at(ptr string) (any, bool) {
	var cur any = o.doc
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok, _ = url.PathUnescape(tok)
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// responseSchema finds the schema the document gives for a response of
// operation GET pathTmpl with a status and media type, following a $ref to
// components/responses. It fails the test when the document does not
// declare that status (or a default) and media type.
func (o *openAPI) responseSchema(tb testing.TB, pathTmpl string, status int, ctype string) *jsonschema.Schema {
	tb.Helper()
	return o.operationResponseSchema(tb, "get", pathTmpl, status, ctype)
}

// operationResponseSchema is responseSchema for the operation of any
// method (lower case).
func (o *openAPI) operationResponseSchema(tb testing.TB, method, pathTmpl string, status int, ctype string) *jsonschema.Schema {
	tb.Helper()
	op := "/paths/" + pointerToken(pathTmpl) + "/" + method + "/responses/"
	resp := op + fmt.Sprint(status)
	node, ok := o.at(resp)
	if !ok {
		resp = op + "default"
		if node, ok = o.at(resp); !ok {
			tb.Fatalf("GET %s: status %d is not documented", pathTmpl, status)
		}
	}
	if ref, ok := node.(map[string]any)["$ref"].(string); ok {
		resp = strings.TrimPrefix(ref, "#")
	}
	mt, _, err := mime.ParseMediaType(ctype)
	if err != nil {
		tb.Fatalf("GET %s: Content-Type %q: %v", pathTmpl, ctype, err)
	}
	ptr := resp + "/content/" + pointerToken(mt) + "/schema"
	if _, ok := o.at(ptr); !ok {
		tb.Fatalf("GET %s: %d response of type %s is not documented (no %s)", pathTmpl, status, mt, ptr)
	}
	return o.schema(tb, ptr)
}

// validate checks a JSON value against a schema.
func validate(tb testing.TB, sch *jsonschema.Schema, what string, body []byte) {
	tb.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		tb.Fatalf("%s: not JSON: %v: %.300s", what, err, body)
	}
	if err := sch.Validate(inst); err != nil {
		tb.Errorf("%s does not match the OpenAPI document:\n%v\nbody: %.500s", what, err, body)
	}
}

// TestOpenAPIResponses validates real responses of every documented JSON
// endpoint (successes and errors) against the OpenAPI document: status,
// media type and body schema.
func TestOpenAPIResponses(t *testing.T) {
	f := newEmbFixture(t, server.Config{})
	o := loadOpenAPI(t)
	ransom := url.QueryEscape("http://" + testHost + "/incidents/" + ransomID)
	search := url.QueryEscape("http://" + testHost + "/?q=outage&domain=information")
	tests := []struct {
		target, tmpl string
		status       int
	}{
		{"/api/v1/search?q=wake+word", "/api/v1/search", 200},
		{"/api/v1/search?consequence=death&consequence=harm&domain=transportation&sort=date", "/api/v1/search", 200},
		{"/api/v1/search?q=outage&from=2017&to=2021&page=2&size=10", "/api/v1/search", 200},
		{"/api/v1/search?q=edge+case+bold", "/api/v1/search", 200},
		{"/api/v1/search?q=rationale:ransomware+OR+causes:firmware&sort=articles", "/api/v1/search", 200},
		{"/api/v1/search?q=zzzzqqq", "/api/v1/search", 200},
		{"/api/v1/search?page=400", "/api/v1/search", 200},
		{"/api/v1/search?sort=nope", "/api/v1/search", 400},
		{"/api/v1/search?size=1000", "/api/v1/search", 400},
		{"/api/v1/search?consequence=nope", "/api/v1/search", 400},
		{"/api/v1/incidents/" + alexaID, "/api/v1/incidents/{id}", 200},
		{"/api/v1/incidents/no-such-incident", "/api/v1/incidents/{id}", 404},
		{"/api/v1/facets", "/api/v1/facets", 200},
		{"/api/v1/export?format=xml", "/api/v1/export", 400},
		{"/api/v1/openapi.json", "/api/v1/openapi.json", 200},
		{"/feed.json?q=ransomware&consequence=death", "/feed.json", 200},
		{"/feed.json?size=7&page=2", "/feed.json", 200},
		{"/feed.json?to=1800", "/feed.json", 400},
		{"/oembed?url=" + ransom, "/oembed", 200},
		{"/oembed?url=" + search + "&maxwidth=300&maxheight=200", "/oembed", 200},
		{"/oembed?url=" + url.QueryEscape("https://elsewhere.example/incidents/"+ransomID), "/oembed", 404},
		{"/oembed?url=" + ransom + "&format=xml", "/oembed", 501},
	}
	for _, tt := range tests {
		w := f.get(t, tt.target)
		if w.Code != tt.status {
			t.Errorf("%s: status %d, want %d: %.300s", tt.target, w.Code, tt.status, w.Body.String())
			continue
		}
		sch := o.responseSchema(t, tt.tmpl, w.Code, w.Header().Get("Content-Type"))
		validate(t, sch, tt.target, w.Body.Bytes())
	}

	// Every incident, through both the incident endpoint and the export.
	w := f.get(t, "/api/v1/export?format=ndjson")
	mustStatus(t, w, http.StatusOK)
	lineSchema := o.responseSchema(t, "/api/v1/export", 200, w.Header().Get("Content-Type"))
	incSchema := o.responseSchema(t, "/api/v1/incidents/{id}", 200, "application/json")
	sc := bufio.NewScanner(w.Body)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		n++
		validate(t, lineSchema, "export line", sc.Bytes())
		var in index.Incident
		if err := json.Unmarshal(sc.Bytes(), &in); err != nil {
			t.Fatal(err)
		}
		validate(t, incSchema, in.ID, f.get(t, "/api/v1/incidents/"+in.ID).Body.Bytes())
	}
	if n != 35 {
		t.Errorf("validated %d incidents, want 35", n)
	}
}

// TestOpenAPIDocument checks the document itself: OpenAPI 3.1, served as
// written, every $ref resolving, every schema valid JSON Schema 2020-12,
// unique operation ids, and the vocabulary (categories, sorts, limits)
// equal to the code's.
func TestOpenAPIDocument(t *testing.T) {
	o := loadOpenAPI(t)
	if v, _ := o.doc["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Errorf("openapi %q, want 3.1.x", v)
	}
	info, _ := o.doc["info"].(map[string]any)
	if info["title"] == nil || info["version"] == nil {
		t.Error("info needs a title and a version")
	}

	srv := newEmbServer(t, server.Config{}, &genSearcher{})
	w := doHandler(t, srv.Handler(), http.MethodGet, "/api/v1/openapi.json")
	mustStatus(t, w, http.StatusOK)
	if !bytes.Equal(w.Body.Bytes(), o.raw) {
		t.Error("/api/v1/openapi.json differs from server/openapi.json")
	}

	// Every $ref resolves.
	var refs []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if r, ok := v["$ref"].(string); ok {
				refs = append(refs, r)
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(o.doc)
	for _, r := range refs {
		if !strings.HasPrefix(r, "#/") {
			t.Errorf("$ref %q leaves the document", r)
			continue
		}
		if _, ok := o.at(strings.TrimPrefix(r, "#")); !ok {
			t.Errorf("$ref %q does not resolve", r)
		}
	}
	// Every component schema compiles (the compiler checks it against the
	// JSON Schema 2020-12 meta-schema).
	schemas, _ := o.at("/components/schemas")
	for name := range schemas.(map[string]any) {
		o.schema(t, "/components/schemas/"+name)
	}
	// Operations: unique ids, responses, path parameters declared.
	ids := map[string]bool{}
	paths, _ := o.doc["paths"].(map[string]any)
	for p, item := range paths {
		for method, opv := range item.(map[string]any) {
			op := opv.(map[string]any)
			id, _ := op["operationId"].(string)
			if id == "" || ids[id] {
				t.Errorf("%s %s: operationId %q missing or repeated", method, p, id)
			}
			ids[id] = true
			if _, ok := op["responses"].(map[string]any)["200"]; !ok {
				t.Errorf("%s %s: no 200 response", method, p)
			}
			for _, m := range regexp.MustCompile(`\{(\w+)\}`).FindAllStringSubmatch(p, -1) {
				found := false
				for _, pv := range op["parameters"].([]any) {
					param := pv.(map[string]any)
					if r, ok := param["$ref"].(string); ok {
						node, _ := o.at(strings.TrimPrefix(r, "#"))
						param = node.(map[string]any)
					}
					found = found || (param["in"] == "path" && param["name"] == m[1] && param["required"] == true)
				}
				if !found {
					t.Errorf("%s %s: path parameter %s not declared", method, p, m[1])
				}
			}
		}
	}

	// The vocabulary is the code's.
	var cats []any
	for _, c := range index.Taxonomy {
		cats = append(cats, c.Name)
		if _, ok := o.at("/components/parameters/" + c.Name); !ok {
			t.Errorf("no parameter for category %s", c.Name)
		}
		if !slices.ContainsFunc(paths["/api/v1/search"].(map[string]any)["get"].(map[string]any)["parameters"].([]any), func(p any) bool {
			return p.(map[string]any)["$ref"] == "#/components/parameters/"+c.Name
		}) {
			t.Errorf("search does not take the %s parameter", c.Name)
		}
	}
	enum, _ := o.at("/components/schemas/Category/enum")
	if diff := cmp.Diff(cats, enum); diff != "" {
		t.Errorf("Category enum (-taxonomy +document):\n%s", diff)
	}
	var sorts []any
	for _, s := range search.Sorts {
		sorts = append(sorts, s)
	}
	sortEnum, _ := o.at("/components/parameters/sort/schema/enum")
	if diff := cmp.Diff(sorts, sortEnum); diff != "" {
		t.Errorf("sort enum (-code +document):\n%s", diff)
	}
	if max, _ := o.at("/components/parameters/size/schema/maximum"); max != float64(search.MaxSize) {
		t.Errorf("size maximum %v, want %d", max, search.MaxSize)
	}
}

// TestGoldenJSON pins the JSON of the main endpoints: status, media type,
// paging headers and body, with took_ms zeroed and scores rounded to 6
// significant digits (bleve's floating-point sums vary in the last bits
// from run to run). Run with -update to accept a change.
func TestGoldenJSON(t *testing.T) {
	f := newEmbFixture(t, server.Config{})
	tests := []struct{ name, target string }{
		{"search_wake_word", "/api/v1/search?q=wake+word"},
		{"search_filters", "/api/v1/search?consequence=death&consequence=harm&sort=date&size=3"},
		{"search_page", "/api/v1/search?q=software&from=2017&to=2021&page=2&size=2"},
		{"search_markup", "/api/v1/search?q=edge+case+bold"},
		{"incident", "/api/v1/incidents/" + alexaID},
		{"incident_edge", "/api/v1/incidents/" + edgeID},
		{"facets", "/api/v1/facets"},
		{"error_query", "/api/v1/search?sort=nope"},
		{"error_not_found", "/api/v1/incidents/no-such-incident"},
		{"error_export_format", "/api/v1/export?format=xml"},
		{"feed_json", "/feed.json?q=ransomware&consequence=death"},
		{"oembed", "/oembed?url=" + url.QueryEscape("http://"+testHost+"/incidents/"+ransomID)},
	}
	took := regexp.MustCompile(`"took_ms":[0-9.eE+-]+`)
	score := regexp.MustCompile(`"score":([0-9.eE+-]+)`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.get(t, tt.target)
			body := took.ReplaceAll(w.Body.Bytes(), []byte(`"took_ms":0`))
			body = score.ReplaceAllFunc(body, func(m []byte) []byte {
				v, err := strconv.ParseFloat(string(score.FindSubmatch(m)[1]), 64)
				if err != nil {
					t.Fatalf("score %s: %v", m, err)
				}
				return []byte(`"score":` + strconv.FormatFloat(v, 'g', 6, 64))
			})
			got := goldenJSON(t, w, body)
			path := filepath.Join("testdata", tt.name+".golden.json")
			if *updateGolden {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./server -run TestGoldenJSON -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("%s (-golden +got); run with -update if the change is intended:\n%s", tt.target, diff)
			}
		})
	}
}

// goldenJSON renders a response as an indented JSON document.
func goldenJSON(tb testing.TB, w *httptest.ResponseRecorder, body []byte) []byte {
	tb.Helper()
	head := map[string]any{
		"status":       w.Code,
		"content_type": w.Header().Get("Content-Type"),
	}
	if l := w.Header().Values("Link"); len(l) > 0 {
		head["link"] = l
	}
	if n := w.Header().Get("X-Total-Count"); n != "" {
		head["x_total_count"] = n
	}
	var hbuf bytes.Buffer
	enc := json.NewEncoder(&hbuf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(head); err != nil {
		tb.Fatal(err)
	}
	hb := bytes.TrimSpace(hbuf.Bytes())
	raw := append(append(hb[:len(hb)-1:len(hb)-1], `,"body":`...), bytes.TrimSpace(body)...)
	raw = append(raw, '}')
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		tb.Fatalf("%v: %s", err, raw)
	}
	out.WriteByte('\n')
	return out.Bytes()
}
