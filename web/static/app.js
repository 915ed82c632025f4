// faildex search page: optional enhancements. The page works fully without
// this script (GET form, links); with it, filters, sorting and paging update
// the results in place, the URL follows every change (so links can be shared
// and Back works) and focus stays where it was.
(function () {
  'use strict';
  var d = document;
  var form = d.getElementById('f');
  if (!form || !window.fetch || !window.DOMParser || !window.URLSearchParams || !history.pushState) return;
  d.documentElement.classList.add('js');

  var app = d.getElementById('app');
  var live = d.getElementById('live');
  var narrow = window.matchMedia('(max-width: 47.99em)');
  var seq = 0;

  // On phones the filters start folded away under their summary.
  function fold() {
    var box = d.getElementById('fbox');
    if (box) box.open = !narrow.matches;
  }
  fold();
  if (narrow.addEventListener) narrow.addEventListener('change', fold);

  // formURL is the URL the form would submit to, without empty parameters.
  function formURL() {
    var p = new URLSearchParams();
    var sort = d.getElementById('sort');
    new FormData(form).forEach(function (v, k) {
      if (typeof v !== 'string' || v.trim() === '') return;
      if (k === 'sort' && sort && v === sort.getAttribute('data-default')) return;
      p.append(k, v.trim());
    });
    var s = p.toString();
    return '/' + (s ? '?' + s : '');
  }

  // load fetches a search page and swaps its results, filters and message
  // into this one. focus is the id of the element to focus afterwards ("rh"
  // for the results heading); by default the focused element keeps focus.
  var pending = '';
  function load(url, push, focus) {
    if (url === pending) return; // already on its way
    pending = url;
    var n = ++seq;
    app.classList.add('busy');
    app.setAttribute('aria-busy', 'true');
    fetch(url, { headers: { Accept: 'text/html' }, credentials: 'same-origin' })
      .then(function (r) {
        if (r.status !== 200 && r.status !== 400) throw new Error('status ' + r.status);
        return r.text();
      })
      .then(function (html) {
        if (n !== seq) return; // a later request superseded this one
        pending = '';
        var had = d.activeElement && app.contains(d.activeElement) ? d.activeElement.id : '';
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var next = doc.getElementById('app');
        if (!next) throw new Error('no results in the page');
        // Keep the folds the user opened or closed, but show a category
        // that has a value selected.
        var folds = {};
        app.querySelectorAll('details[id]').forEach(function (el) { folds[el.id] = el.open; });
        app.replaceWith(next);
        app = next;
        app.querySelectorAll('details[id]').forEach(function (el) {
          var keep = el.id !== 'fbox' && el.open && el.querySelector('input:checked');
          if (el.id in folds && !keep) el.open = folds[el.id];
        });
        var msg = d.getElementById('msg'), nmsg = doc.getElementById('msg');
        if (msg && nmsg) msg.innerHTML = nmsg.innerHTML;
        var q = d.getElementById('q'), nq = doc.getElementById('q');
        if (q && nq) {
          if (d.activeElement !== q) q.value = nq.value;
          ['aria-invalid', 'aria-describedby'].forEach(function (a) {
            if (nq.hasAttribute(a)) q.setAttribute(a, nq.getAttribute(a)); else q.removeAttribute(a);
          });
        }
        d.title = doc.title;
        // The feeds of this search, in the head.
        d.head.querySelectorAll('link[rel=alternate]').forEach(function (l) { l.remove(); });
        doc.head.querySelectorAll('link[rel=alternate]').forEach(function (l) { d.head.appendChild(l); });
        if (push) history.pushState(null, '', url);
        var h = d.getElementById('rh');
        if (live && h) live.textContent = h.textContent;
        var el = d.getElementById(focus || had);
        if (el) {
          el.focus();
          if (focus === 'rh') el.scrollIntoView({ block: 'nearest' });
        }
      })
      .catch(function () {
        if (n !== seq) return;
        pending = '';
        if (push) location.assign(url); else location.reload();
      });
  }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    load(formURL(), true, '');
  });

  // Facet checkboxes and the sort order apply at once. They sit outside the
  // form element (form="f"), so listen on the document.
  d.addEventListener('change', function (e) {
    var t = e.target;
    if (t.form !== form || !(t.type === 'checkbox' || t.tagName === 'SELECT')) return;
    load(formURL(), true, t.id);
  });

  // Enter toggles a facet checkbox, as Space does.
  d.addEventListener('keydown', function (e) {
    var t = e.target;
    if (e.key === 'Enter' && t.type === 'checkbox' && t.form === form) {
      e.preventDefault();
      t.click();
    }
  });

  // Links to other searches (chips, years, pages, suggestions) load in place.
  d.addEventListener('click', function (e) {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    var a = e.target.closest && e.target.closest('a');
    if (!a || !app.contains(a)) return;
    var url = new URL(a.getAttribute('href'), location.href);
    if (url.origin !== location.origin || url.pathname !== '/') return;
    e.preventDefault();
    load(url.pathname + url.search, true, a.id || 'rh');
  });

  window.addEventListener('popstate', function () {
    load(location.pathname + location.search, false, '');
  });
})();
