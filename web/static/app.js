// faildex search page: optional enhancements. The page works fully without
// this script (GET form, links); with it, filters, sorting and paging update
// the results in place, the URL follows every change (so links can be shared
// and Back works) and focus stays where it was; the search box suggests
// searches and incidents as a query is typed, and "/" focuses it.
(function () {
  'use strict';
  var d = document;

  // Copy buttons (search and incident pages): a button with data-copy-text
  // copies that text; one with data-copy copies the text of the element
  // with that id. The live region says it was copied.
  if (d.addEventListener && d.querySelector) {
    d.documentElement.classList.add('cp');
    d.addEventListener('click', function (e) {
      var b = e.target.closest ? e.target.closest('button.copy') : null;
      if (!b) return;
      var src = b.getAttribute('data-copy');
      var el = src ? d.getElementById(src) : null;
      var text = b.hasAttribute('data-copy-text') ? b.getAttribute('data-copy-text') : el ? (el.value != null ? el.value : el.textContent) : '';
      var said = b.getAttribute('data-copied') || 'Copied';
      var say = function (msg) {
        var live = d.getElementById('live');
        if (live) { live.textContent = ''; setTimeout(function () { live.textContent = msg; }, 30); }
        b.setAttribute('data-state', msg === said ? 'copied' : 'failed');
      };
      var fallback = function () {
        var ta = d.createElement('textarea');
        ta.value = text;
        ta.setAttribute('readonly', '');
        ta.className = 'vh';
        d.body.appendChild(ta);
        ta.select();
        var ok = false;
        try { ok = d.execCommand('copy'); } catch (err) { ok = false; }
        ta.remove();
        b.focus();
        say(ok ? said : 'Could not copy; select the text and copy it');
      };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(function () { say(said); }, fallback);
      } else {
        fallback();
      }
    });
  }

  // Incident page opened from a search: mark the search's words (and the
  // words that start with them, for "crash" in "crashed") in the report.
  var art = d.querySelector && d.querySelector('article[data-highlight]');
  if (art && window.NodeFilter) {
    var words = art.getAttribute('data-highlight').split(/\s+/).filter(Boolean).map(function (w) {
      return w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    });
    if (words.length) {
      var re;
      try { re = new RegExp('(?<![\\p{L}\\p{N}])(?:' + words.join('|') + ')[\\p{L}\\p{N}]*', 'giu'); } catch (err) { re = null; }
      var walker = re && d.createTreeWalker(art, NodeFilter.SHOW_TEXT, {
        acceptNode: function (n) { return n.parentNode.closest('pre,button,script,style,mark') ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT; }
      });
      var texts = [];
      while (walker && walker.nextNode()) texts.push(walker.currentNode);
      texts.forEach(function (t) {
        var s = t.nodeValue, last = 0, m, frag = null;
        re.lastIndex = 0;
        while ((m = re.exec(s))) {
          if (!frag) frag = d.createDocumentFragment();
          frag.appendChild(d.createTextNode(s.slice(last, m.index)));
          var mk = d.createElement('mark');
          mk.textContent = m[0];
          frag.appendChild(mk);
          last = m.index + m[0].length;
        }
        if (frag) {
          frag.appendChild(d.createTextNode(s.slice(last)));
          t.parentNode.replaceChild(frag, t);
        }
      });
    }
  }

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
        var folds = {}, typed = {};
        app.querySelectorAll('details[id]').forEach(function (el) { folds[el.id] = el.open; });
        app.querySelectorAll('input.ffilter').forEach(function (el) { typed[el.id] = el.value; });
        app.replaceWith(next);
        app = next;
        facetFilters(typed);
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
        // A link that went away with the old results (a suggestion)
        // leaves the focus on the results heading.
        var el = d.getElementById(focus || had) || (focus ? d.getElementById('rh') : null);
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

  // Long facet lists (the organisations) have a filter box: typing narrows
  // the list, "show more" included, to the values with a word of their
  // label starting with what is typed. typed holds boxes' text by id, kept
  // across a results swap.
  function facetFilters(typed) {
    app.querySelectorAll('input.ffilter').forEach(function (box) {
      box.hidden = false;
      if (typed && typed[box.id]) {
        box.value = typed[box.id];
        narrowFacet(box);
      }
    });
  }
  function narrowFacet(box) {
    var want = box.value.trim().toLowerCase();
    var list = box.closest('fieldset');
    list.querySelectorAll('li').forEach(function (li) {
      var label = li.querySelector('label');
      var text = label && label.firstChild ? label.firstChild.textContent.trim().toLowerCase() : '';
      li.hidden = want !== '' && text.indexOf(want) !== 0 && !text.split(/[^a-z0-9\u00c0-\uffff]+/).some(function (w) { return w.indexOf(want) === 0; });
    });
    var more = list.querySelector('details.more');
    if (more && want) more.open = true;
  }
  facetFilters(null);
  d.addEventListener('input', function (e) {
    if (e.target.classList && e.target.classList.contains('ffilter')) narrowFacet(e.target);
  });

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

  // "/" focuses the search box, unless a field has the keyboard.
  d.addEventListener('keydown', function (e) {
    var t = e.target;
    if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
    if (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)) return;
    var q = d.getElementById('q');
    if (!q) return;
    e.preventDefault();
    q.focus();
    q.setSelectionRange(q.value.length, q.value.length);
  });

  suggest(d.getElementById('q'));

  // suggest makes the search box a combobox (the WAI-ARIA 1.2 pattern, with
  // a listbox popup) offering /api/v1/suggest's completions of the query
  // and the titles of its best matches. Arrow keys move through them, Enter
  // picks one (a completion is searched for, an incident opens), Escape
  // closes the list.
  function suggest(q) {
    if (!q || !window.AbortController) return;
    var box = d.createElement('div'), say = d.createElement('p');
    var opts = [], at = -1, timer = 0, ctl = null, shown = '';
    box.id = 'sg';
    box.className = 'sg';
    box.setAttribute('role', 'listbox');
    box.setAttribute('aria-label', 'Suggestions');
    box.hidden = true;
    say.className = 'vh';
    say.setAttribute('aria-live', 'polite');
    q.insertAdjacentElement('afterend', box);
    form.appendChild(say);
    q.setAttribute('role', 'combobox');
    q.setAttribute('aria-autocomplete', 'list');
    q.setAttribute('aria-expanded', 'false');
    q.setAttribute('aria-controls', 'sg');

    function el(tag, cls, text) {
      var e = d.createElement(tag);
      if (cls) e.className = cls;
      if (text) e.textContent = text;
      return e;
    }
    function close() {
      box.hidden = true;
      q.setAttribute('aria-expanded', 'false');
      move(-1);
    }
    function cancel() {
      clearTimeout(timer);
      if (ctl) ctl.abort();
      ctl = null;
    }
    // move makes option i the active one (-1: none).
    function move(i) {
      if (opts[at]) opts[at].setAttribute('aria-selected', 'false');
      at = i;
      if (opts[at]) {
        opts[at].setAttribute('aria-selected', 'true');
        q.setAttribute('aria-activedescendant', opts[at].id);
        opts[at].scrollIntoView({ block: 'nearest' });
      } else {
        q.removeAttribute('aria-activedescendant');
      }
    }
    function pick(o) {
      close();
      cancel();
      if (o.dataset.id) {
        location.assign('/incidents/' + encodeURIComponent(o.dataset.id));
        return;
      }
      q.value = o.dataset.q;
      shown = ''; // the list offered is for what was typed before
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    }
    // group adds a labelled group of options, made by fill from items.
    function group(label, items, fill) {
      if (!items.length) return;
      var g = el('ul'), h = el('li', 'sgh', label);
      h.id = 'sg-h' + box.children.length;
      h.setAttribute('role', 'presentation');
      g.setAttribute('role', 'group');
      g.setAttribute('aria-labelledby', h.id);
      g.appendChild(h);
      items.forEach(function (it) {
        var o = el('li');
        o.id = 'sg-' + opts.length;
        o.setAttribute('role', 'option');
        o.setAttribute('aria-selected', 'false');
        fill(o, it);
        opts.push(o);
        g.appendChild(o);
      });
      box.appendChild(g);
    }
    function show(s) {
      move(-1);
      opts = [];
      box.textContent = '';
      group('Searches', s.completions || [], function (o, c) {
        o.dataset.q = c.text;
        o.appendChild(el('span', 'sgt', c.text));
        o.appendChild(el('span', 'c', ' ' + c.incidents + (c.incidents === 1 ? ' incident' : ' incidents')));
      });
      group('Incidents', s.incidents || [], function (o, h) {
        o.dataset.id = h.id;
        var t = el('span', 'sgt');
        // title_html is escaped with <mark> alone; anything else falls
        // back to the plain title.
        if (/^(?:[^<]|<\/?mark>)*$/.test(h.title_html || '')) t.innerHTML = h.title_html; else t.textContent = h.title;
        o.appendChild(t);
        o.appendChild(el('span', 'c', ' ' + (h.published || '').slice(0, 4)));
      });
      var n = opts.length;
      say.textContent = n ? n + (n === 1 ? ' suggestion' : ' suggestions') : '';
      box.hidden = !n;
      q.setAttribute('aria-expanded', n ? 'true' : 'false');
    }
    function ask() {
      var v = q.value;
      cancel();
      move(-1);
      if (!v.trim()) { shown = v; close(); return; }
      timer = setTimeout(function () {
        var c = ctl = new AbortController();
        fetch('/api/v1/suggest?size=5&q=' + encodeURIComponent(v), { signal: c.signal, credentials: 'same-origin' })
          .then(function (r) {
            if (!r.ok) throw new Error('status ' + r.status);
            return r.json();
          })
          .then(function (s) {
            if (c !== ctl || q.value !== v || d.activeElement !== q) return; // stale
            ctl = null;
            shown = v;
            show(s);
          })
          .catch(function () {});
      }, 120);
    }

    q.addEventListener('input', ask);
    q.addEventListener('blur', close);
    form.addEventListener('submit', function () { cancel(); close(); });
    q.addEventListener('keydown', function (e) {
      var open = !box.hidden, n = opts.length;
      if (e.isComposing) return;
      switch (e.key) {
        case 'ArrowDown':
        case 'ArrowUp':
          e.preventDefault();
          if (!open) {
            if (n && shown === q.value) {
              box.hidden = false;
              q.setAttribute('aria-expanded', 'true');
            } else {
              ask();
            }
            if (e.altKey || !n || shown !== q.value) return;
          }
          if (e.key === 'ArrowDown') move(at + 1 < n ? at + 1 : 0);
          else move(at > 0 ? at - 1 : n - 1);
          break;
        case 'Enter':
          if (open && opts[at]) {
            e.preventDefault();
            pick(opts[at]);
          }
          break;
        case 'Escape':
          if (open) {
            e.preventDefault();
            close();
          }
          break;
      }
    });
    // A click on an option picks it; the box keeps the focus.
    box.addEventListener('mousedown', function (e) { e.preventDefault(); });
    box.addEventListener('click', function (e) {
      var o = e.target.closest('[role=option]');
      if (o) pick(o);
    });
  }
})();
