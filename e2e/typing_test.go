package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/faildex/faildex/index/indextest"
)

// apiReading returns how the search API read q: its corrected query and
// the words it left out.
func apiReading(tb testing.TB, inst *instance, q string) (suggestion string, dropped []string) {
	tb.Helper()
	status, body := inst.get(tb, "/api/v1/search?size=1&q="+url.QueryEscape(q))
	if status != http.StatusOK {
		tb.Fatalf("API %q: %d %s", q, status, body)
	}
	var res struct {
		Suggestion string `json:"suggestion"`
		Relaxed    *struct {
			Dropped []string `json:"dropped"`
		} `json:"relaxed"`
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		tb.Fatal(err)
	}
	if res.Relaxed != nil {
		dropped = res.Relaxed.Dropped
	}
	return res.Suggestion, dropped
}

// typeQuery loads the empty search page, types q into the search box key
// by key and presses Enter, then waits for the results of q.
func typeQuery(base, q string) chromedp.Tasks {
	return chromedp.Tasks{
		chromedp.Navigate(base + "/"),
		chromedp.WaitVisible("#q", chromedp.ByID),
		chromedp.SendKeys("#q", q, chromedp.ByID),
		chromedp.KeyEvent(kb.Enter),
		waitFor(fmt.Sprintf(`new URLSearchParams(location.search).get('q') === %q && document.getElementById('rh').textContent.includes(%q)`, q, q)),
	}
}

// typeSlash presses "/" as a keyboard does: one keydown carrying the
// text, which a handler that cancels the keydown keeps from being typed.
// (chromedp.KeyEvent sends the text as a separate char event, which
// cancelling the keydown cannot stop.)
func typeSlash() chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		down := input.DispatchKeyEvent(input.KeyDown).WithKey("/").WithCode("Slash").WithText("/").WithUnmodifiedText("/").
			WithWindowsVirtualKeyCode(191).WithNativeVirtualKeyCode(191)
		if err := down.Do(ctx); err != nil {
			return err
		}
		return input.DispatchKeyEvent(input.KeyUp).WithKey("/").WithCode("Slash").WithWindowsVirtualKeyCode(191).WithNativeVirtualKeyCode(191).Do(ctx)
	})
}

// comboState is what the tests read of the search box's suggestions.
type comboState struct {
	Role     string   `json:"role"`
	Expanded string   `json:"expanded"`
	Controls string   `json:"controls"`
	Active   string   `json:"active"`   // text of the active option
	Selected int      `json:"selected"` // options with aria-selected=true
	Hidden   bool     `json:"hidden"`   // the listbox is hidden
	Listbox  string   `json:"listbox"`  // role of the controlled element
	Groups   []string `json:"groups"`   // labels of its groups
	Options  []string `json:"options"`  // texts of its options
	Live     string   `json:"live"`     // the live region's announcement
	Value    string   `json:"value"`
}

const readCombo = `(() => {
  const q = document.getElementById('q');
  const lb = document.getElementById(q.getAttribute('aria-controls') || '') || document.createElement('div');
  const act = document.getElementById(q.getAttribute('aria-activedescendant') || '');
  const live = [...document.querySelectorAll('.search [aria-live]')].map(e => e.textContent).join('|');
  return {
    role: q.getAttribute('role') || '',
    expanded: q.getAttribute('aria-expanded') || '',
    controls: q.getAttribute('aria-controls') || '',
    active: act && act.getAttribute('role') === 'option' && lb.contains(act) ? act.querySelector('.sgt').textContent : '',
    selected: lb.querySelectorAll('[role=option][aria-selected=true]').length,
    hidden: lb.hidden || getComputedStyle(lb).display === 'none',
    listbox: lb.getAttribute('role') || '',
    groups: [...lb.querySelectorAll('[role=group]')].map(g => (document.getElementById(g.getAttribute('aria-labelledby')) || {}).textContent || ''),
    options: [...lb.querySelectorAll('[role=option] .sgt')].map(o => o.textContent),
    live, value: q.value,
  };
})()`

func combo(tb testing.TB, ctx context.Context) comboState {
	tb.Helper()
	var c comboState
	eval(tb, ctx, readCombo, &c)
	return c
}

// TestUITyping drives the search box as people type: a misspelled query
// and its "did you mean", a query with a word no report has, the
// suggestions list by keyboard, and the "/" shortcut.
func TestUITyping(t *testing.T) {
	inst := startServe(t, indextest.Reports(t))
	ctx := newBrowser(t, 3*time.Minute)

	t.Run("did you mean", func(t *testing.T) {
		const typed = "alexa recordng"
		want, _ := apiReading(t, inst, typed)
		if want == "" || want == typed {
			t.Fatalf("the API suggests %q for %q, want a correction", want, typed)
		}
		run(t, ctx, "searching", typeQuery(inst.URL, typed), chromedp.WaitVisible("#dym", chromedp.ByID))
		var got struct {
			Text   string `json:"text"`
			Status bool   `json:"status"`
		}
		eval(t, ctx, `(a => ({text: a.textContent, status: !!a.closest('[role=status]')}))(document.getElementById('dym'))`, &got)
		if got.Text != want || !got.Status {
			t.Errorf("did you mean %q (in a status: %v), want %q", got.Text, got.Status, want)
		}
		if c := combo(t, ctx); !c.Hidden || c.Expanded != "false" {
			t.Errorf("after searching, the suggestions are open: %+v", c)
		}
		run(t, ctx, "following the suggestion",
			chromedp.Click("#dym", chromedp.ByID),
			waitFor(fmt.Sprintf(`new URLSearchParams(location.search).get('q') === %q && document.getElementById('rh').textContent.includes(%q)`, want, want)),
		)
		s := state(t, ctx)
		if len(s.Hits) == 0 {
			t.Errorf("no results for %q", want)
		}
		if c := combo(t, ctx); c.Value != want {
			t.Errorf("the search box holds %q, want %q", c.Value, want)
		}
	})

	t.Run("relaxed", func(t *testing.T) {
		const typed = "alexa zebrafish"
		_, dropped := apiReading(t, inst, typed)
		if len(dropped) != 1 || dropped[0] != "zebrafish" {
			t.Fatalf("the API leaves out %q of %q, want zebrafish", dropped, typed)
		}
		run(t, ctx, "searching", typeQuery(inst.URL, typed), chromedp.WaitVisible("#relaxed", chromedp.ByID))
		var words []string
		eval(t, ctx, `[...document.querySelectorAll('#relaxed q')].map(q => q.textContent)`, &words)
		if len(words) != 1 || words[0] != "zebrafish" {
			t.Errorf("left out %q, want zebrafish", words)
		}
		// The results are those of the words kept.
		total, _ := apiSearch(t, inst, "q=alexa")
		if s := state(t, ctx); total == 0 || !strings.HasPrefix(s.Heading, fmt.Sprintf("%d incident", total)) || len(s.Hits) != int(min(total, 20)) {
			t.Errorf("heading %q, %d hits; want the %d incidents with alexa", s.Heading, len(s.Hits), total)
		}
	})

	t.Run("suggestions by keyboard", func(t *testing.T) {
		run(t, ctx, "typing alex",
			chromedp.Navigate(inst.URL+"/"),
			chromedp.WaitVisible("#q", chromedp.ByID),
			chromedp.SendKeys("#q", "alex", chromedp.ByID),
			waitFor(`document.getElementById('q').getAttribute('aria-expanded') === 'true' && [...document.querySelectorAll('#sg [role=option] .sgt')].some(o => o.textContent === 'alexa')`),
		)
		c := combo(t, ctx)
		if c.Role != "combobox" || c.Listbox != "listbox" || c.Hidden || c.Active != "" || c.Selected != 0 {
			t.Errorf("open suggestions: %+v", c)
		}
		if len(c.Groups) != 2 || c.Groups[0] != "Searches" || c.Groups[1] != "Incidents" {
			t.Errorf("groups %q, want Searches and Incidents", c.Groups)
		}
		if want := fmt.Sprintf("%d suggestions", len(c.Options)); c.Live != want {
			t.Errorf("announced %q, want %q", c.Live, want)
		}
		run(t, ctx, "Escape", chromedp.KeyEvent(kb.Escape))
		if c := combo(t, ctx); !c.Hidden || c.Expanded != "false" || c.Value != "alex" {
			t.Errorf("after Escape: %+v, want closed with alex in the box", c)
		}
		// ArrowDown opens the list again; press it until "alexa" is active.
		for i := 0; i <= len(c.Options); i++ {
			run(t, ctx, "ArrowDown", chromedp.KeyEvent(kb.ArrowDown))
			if c = combo(t, ctx); c.Active == "alexa" {
				break
			}
		}
		if c.Active != "alexa" || c.Selected != 1 || c.Hidden || c.Expanded != "true" {
			t.Fatalf("ArrowDown never made alexa the active option: %+v", c)
		}
		run(t, ctx, "ArrowUp and ArrowDown", chromedp.KeyEvent(kb.ArrowUp), chromedp.KeyEvent(kb.ArrowDown))
		if c := combo(t, ctx); c.Active != "alexa" {
			t.Errorf("ArrowUp then ArrowDown: active %q, want alexa", c.Active)
		}
		run(t, ctx, "Enter",
			chromedp.KeyEvent(kb.Enter),
			waitFor(`location.search === '?q=alexa' && document.getElementById('rh').textContent.includes('alexa')`),
		)
		if s := state(t, ctx); len(s.Hits) == 0 || s.Focus != "q" {
			t.Errorf("results for alexa: hits %q, focus on %q", s.Hits, s.Focus)
		}
		if c := combo(t, ctx); !c.Hidden || c.Value != "alexa" {
			t.Errorf("after picking: %+v", c)
		}
	})

	t.Run("an incident by keyboard", func(t *testing.T) {
		run(t, ctx, "typing alexa",
			chromedp.Navigate(inst.URL+"/"),
			chromedp.WaitVisible("#q", chromedp.ByID),
			chromedp.SendKeys("#q", "alexa", chromedp.ByID),
			waitFor(`document.querySelector('#sg [role=option][data-id]') !== null && document.getElementById('q').getAttribute('aria-expanded') === 'true'`),
		)
		var id string
		eval(t, ctx, `document.querySelector('#sg [role=option][data-id]').dataset.id`, &id)
		var active string
		for i := 0; i < 30 && active != id; i++ {
			run(t, ctx, "ArrowDown", chromedp.KeyEvent(kb.ArrowDown))
			eval(t, ctx, `(document.getElementById(document.getElementById('q').getAttribute('aria-activedescendant')) || {dataset: {}}).dataset.id || ''`, &active)
		}
		if active != id {
			t.Fatalf("ArrowDown never reached the incident %s", id)
		}
		run(t, ctx, "Enter",
			chromedp.KeyEvent(kb.Enter),
			waitFor(fmt.Sprintf(`location.pathname === %q && document.querySelector('.incident h1') !== null`, "/incidents/"+url.PathEscape(id))),
		)
	})

	t.Run("slash focuses the search box", func(t *testing.T) {
		run(t, ctx, "loading",
			chromedp.Navigate(inst.URL+"/?q=alexa"),
			chromedp.WaitVisible("#q", chromedp.ByID),
			chromedp.Evaluate(`document.activeElement.blur()`, nil),
			typeSlash(),
			waitFor(`document.activeElement.id === 'q'`),
		)
		if c := combo(t, ctx); c.Value != "alexa" {
			t.Errorf("the box holds %q after /, want alexa", c.Value)
		}
		// In a field, "/" is typed.
		var got string
		run(t, ctx, "typing / in a field",
			chromedp.Focus("#from", chromedp.ByID),
			typeSlash(),
			chromedp.Evaluate(`document.activeElement.id + ' ' + document.getElementById('from').value`, &got),
		)
		if got != "from /" {
			t.Errorf("focus and value %q, want the date field holding /", got)
		}
	})
}
