/*
 * faildex embed.js: live faildex search results on any web page.
 *
 *   <script src="https://FAILDEX/embed.js" defer></script>
 *   <div data-faildex-search="wake word" data-faildex-consequence="death"></div>
 *   <faildex-results search="outage" domain="information" size="5"></faildex-results>
 *
 * A div takes data-faildex-search (the query) and data-faildex-NAME for any
 * other search parameter: a taxonomy category (options separated by commas),
 * from, to, sort or size. Any one of them is enough: a div with only
 * data-faildex-consequence="death" lists the incidents with deaths. <faildex-results> takes the same names without the
 * prefix. Results are fetched from the faildex server the script was loaded
 * from (which must allow this site with --cors-origin) and rendered into a
 * shadow root, so the page's styles and the widget's do not affect each
 * other. Data from the server is only ever inserted as text.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var server = script && script.src ? new URL(script.src, location.href).origin : location.origin;

  // The taxonomy's categories (kept equal to index.Taxonomy by a test).
  var CATEGORIES = ["recurring", "phase", "boundary", "nature", "dimension", "objective", "intent", "capability", "duration", "behaviour", "cps", "perception", "communication", "application", "consequence", "domain"];
  var OTHER = ["from", "to", "sort", "size"];
  var DEFAULT_SIZE = "5";
  // The elements to fill: any with one of the widget's attributes.
  var SELECTOR = ["search"].concat(CATEGORIES, OTHER).map(function (n) { return "[data-faildex-" + n + "]"; }).join(",");

  var CSS = [
    ":host{all:initial;display:block;font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d1d1f}",
    ".fx{border:1px solid #e3e3e6;border-radius:6px;padding:.5rem .75rem;background:#fff}",
    "ol{list-style:none;margin:0;padding:0}",
    "li{padding:.35rem 0;border-bottom:1px solid #e3e3e6}",
    "li:last-child{border-bottom:0}",
    "a{color:#0b57d0;text-decoration:none}",
    "a:hover,a:focus{text-decoration:underline}",
    ".title{font-weight:600}",
    ".meta,.footer,.status{color:#5f6368;font-size:12px}",
    ".footer{margin-top:.35rem}",
    ".error{color:#b3261e;font-size:12px}"
  ].join("\n");

  var sheet = null;
  function styleInto(root) {
    if (root.querySelector && root.querySelector("style[data-fx]")) return;
    try {
      if (!sheet) {
        sheet = new CSSStyleSheet();
        sheet.replaceSync(CSS);
      }
      root.adoptedStyleSheets = [sheet];
      return;
    } catch (e) {
      // Constructable stylesheets are missing: fall back to <style>.
    }
    var style = document.createElement("style");
    style.setAttribute("data-fx", "");
    style.textContent = CSS;
    root.appendChild(style);
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    return e;
  }

  function link(href, cls, text) {
    var a = el("a", cls, text);
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    return a;
  }

  // params reads an element's search parameters.
  function params(node) {
    var custom = node.localName === "faildex-results";
    var get = function (name) {
      var attr = custom ? name : "data-faildex-" + name;
      return node.hasAttribute(attr) ? node.getAttribute(attr) : null;
    };
    var p = new URLSearchParams();
    var q = get("search");
    if (q) p.set("q", q);
    CATEGORIES.forEach(function (c) {
      var v = get(c);
      if (v) {
        v.split(",").forEach(function (o) {
          o = o.trim();
          if (o) p.append(c, o);
        });
      }
    });
    OTHER.forEach(function (name) {
      var v = get(name);
      if (v) p.set(name, v.trim());
    });
    if (!p.has("size")) p.set("size", DEFAULT_SIZE);
    return p;
  }

  function render(node) {
    var root = node.shadowRoot || node.attachShadow({ mode: "open" });
    styleInto(root);
    var box = el("div", "fx");
    box.setAttribute("part", "list");
    box.appendChild(el("p", "status", "Loading incidents…"));
    replace(root, box);

    var p = params(node);
    var seq = (node.__faildexSeq = (node.__faildexSeq || 0) + 1);
    fetch(server + "/api/v1/search?" + p.toString(), {
      mode: "cors",
      credentials: "omit",
      headers: { Accept: "application/json" }
    })
      .then(function (resp) {
        return resp.json().catch(function () { return null; }).then(function (body) {
          if (!resp.ok) {
            var msg = body && body.error && body.error.message ? body.error.message : "HTTP " + resp.status;
            throw new Error(msg);
          }
          return body;
        });
      })
      .then(function (res) {
        if (seq !== node.__faildexSeq) return;
        var out = el("div", "fx");
        out.setAttribute("part", "list");
        var hits = Array.isArray(res.hits) ? res.hits : [];
        if (hits.length) {
          var ol = el("ol");
          hits.forEach(function (h) {
            var li = el("li");
            li.appendChild(link(server + "/incidents/" + encodeURIComponent(h.id), "title", h.title));
            var meta = el("div", "meta");
            var t = el("time", null, h.published);
            t.setAttribute("datetime", String(h.published));
            meta.appendChild(t);
            li.appendChild(meta);
            ol.appendChild(li);
          });
          out.appendChild(ol);
        } else {
          out.appendChild(el("p", "status", "No incidents match."));
        }
        var more = new URLSearchParams(p);
        more.delete("size");
        var footer = el("div", "footer", (res.total === 1 ? "1 incident" : res.total + " incidents") + " · ");
        footer.appendChild(link(server + "/?" + more.toString(), "more", "more on faildex"));
        out.appendChild(footer);
        replace(root, out);
      })
      .catch(function (err) {
        if (seq !== node.__faildexSeq) return;
        var out = el("div", "fx");
        out.appendChild(el("p", "error", failure(err)));
        replace(root, out);
      });
  }

  // failure says why results could not be loaded and what to do. A fetch
  // that fails without an answer (a TypeError) is, from a page of another
  // site, nearly always faildex not allowing this site's origin (CORS); the
  // browser does not tell scripts which, so both remedies are named.
  function failure(err) {
    if (err instanceof TypeError) {
      var origin = location.origin;
      if (!origin || origin === "null") {
        return "faildex: could not load results from " + server + ". Open this page over http(s), not from a file, and allow its site with faildex serve --cors-origin <your site's origin>.";
      }
      if (origin === server) {
        return "faildex: could not reach " + server + ". Check that faildex is running there.";
      }
      return "faildex: " + server + " did not let this site (" + origin + ") load results. Start faildex with --cors-origin " + origin + " (for example: faildex serve --cors-origin " + origin + "), and check that it is running.";
    }
    return "faildex: could not load results (" + (err && err.message ? err.message : err) + ").";
  }

  // replace swaps the shadow root's content, keeping a fallback <style>.
  function replace(root, box) {
    Array.prototype.slice.call(root.childNodes).forEach(function (n) {
      if (!(n.localName === "style" && n.hasAttribute("data-fx"))) root.removeChild(n);
    });
    root.appendChild(box);
  }

  function scan(scope) {
    var nodes = (scope || document).querySelectorAll(SELECTOR);
    Array.prototype.forEach.call(nodes, function (n) {
      if (!n.__faildexDone) {
        n.__faildexDone = true;
        render(n);
      }
    });
  }

  if (window.customElements && !customElements.get("faildex-results")) {
    var observed = ["search"].concat(CATEGORIES, OTHER);
    customElements.define("faildex-results", class extends HTMLElement {
      static get observedAttributes() { return observed; }
      connectedCallback() { render(this); }
      attributeChangedCallback() {
        if (this.isConnected && this.shadowRoot) render(this);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { scan(); });
  } else {
    scan();
  }
  window.faildexEmbed = { scan: scan, render: render };
})();
