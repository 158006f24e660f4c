package sim

import (
	"fmt"

	"github.com/sessionkit/sessionkit/core"
	"html"
	"io"
	"strings"
	"time"
)

// Bounds on what a timeline keeps, so that a big run still writes a page a
// browser opens.
const (
	maxLanes    = 300  // sessions drawn
	maxMarks    = 600  // keepalive ticks per lane (thinned beyond)
	maxTimeline = 5000 // marks and faults
)

// timeline collects what the HTML page draws: one lane per session,
// keepalive ticks, faults, restarts and ends with their reasons.
type timeline struct {
	clients  []string
	lanes    []lane
	byIdx    map[int32]int
	marks    []tmark
	faults   []tfault
	restarts []trestart
	until    time.Duration
}

type lane struct {
	label   string
	client  int32
	start   time.Duration
	end     time.Duration
	ended   bool
	reason  string
	ticks   []time.Duration
	stride  int
	counter int
}

type tmark struct {
	client int32
	at     time.Duration
	kind   string
	what   string
}

type tfault struct {
	client   int32 // -1 for all
	kind     string
	from, to time.Duration
	text     string
}

type trestart struct {
	at    time.Duration
	crash bool
}

func newTimeline(sc *Scenario) *timeline {
	t := &timeline{byIdx: make(map[int32]int)}
	for _, c := range sc.Clients {
		t.clients = append(t.clients, c.Name)
	}
	return t
}

func (t *timeline) session(s *Sim, idx int32) {
	if len(t.lanes) >= maxLanes {
		return
	}
	x := &s.mdl.sess[idx]
	t.byIdx[idx] = len(t.lanes)
	t.lanes = append(t.lanes, lane{label: x.label, client: x.client, start: s.now, stride: 1})
}

func (t *timeline) keepalive(c *client) {
	i, ok := t.byIdx[c.sess]
	if !ok {
		return
	}
	l := &t.lanes[i]
	l.counter++
	if l.counter%l.stride != 0 {
		return
	}
	l.ticks = append(l.ticks, c.s.now)
	if len(l.ticks) >= maxMarks {
		// Keep every other tick and take half as many from now on.
		for j := 0; j < len(l.ticks)/2; j++ {
			l.ticks[j] = l.ticks[2*j]
		}
		l.ticks = l.ticks[:len(l.ticks)/2]
		l.stride *= 2
	}
}

func (t *timeline) ended(idx int32, why core.Reason, at time.Duration) {
	if i, ok := t.byIdx[idx]; ok {
		t.lanes[i].ended, t.lanes[i].end, t.lanes[i].reason = true, at, string(why)
	}
}

func (t *timeline) mark(s *Sim, c *client, kind, what string) {
	if len(t.marks) < maxTimeline && int(c.idx) < maxLanes {
		t.marks = append(t.marks, tmark{c.idx, s.now, kind, what})
	}
}

func (t *timeline) action(s *Sim, a *Action) {
	if len(t.faults) >= maxTimeline || a.Kind == "restart" {
		return
	}
	ci := s.whoIdx(a.Who)
	t.faults = append(t.faults, tfault{client: ci, kind: a.Kind, from: a.At, to: a.At + a.For, text: a.String()})
}

func (t *timeline) restart(s *Sim, crash bool) {
	t.restarts = append(t.restarts, trestart{s.now, crash})
}

func (t *timeline) finish(s *Sim) {
	t.until = s.now
}

// WriteHTML writes a self-contained HTML page (inline SVG and CSS, no
// external assets) with a summary table of the reports and, for each
// report that collected a timeline (Options.Timeline), its sessions as
// lanes: keepalive ticks, faults, restarts, and ends with their reasons.
func WriteHTML(w io.Writer, reports ...*Report) error {
	var b strings.Builder
	b.WriteString(`<!doctype html><html><head><meta charset="utf-8"><title>sessionkit simulation</title><style>
body{font:13px system-ui,sans-serif;margin:20px;color:#222}
table{border-collapse:collapse;margin-bottom:24px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
.ok{color:#176317}.fail{color:#b00020;font-weight:bold}
svg{background:#fafafa;border:1px solid #ddd}
.lane{fill:#4c9a2a}.ended{fill:#9aa5b1}.tick{stroke:#1b5e20;stroke-width:1}
.f-partition,.f-flap{fill:#e53935;opacity:.18}.f-loss,.f-delay{fill:#fb8c00;opacity:.18}
.f-hide{fill:#5c6bc0;opacity:.15}.f-freeze{fill:#00838f;opacity:.2}
.restart{stroke:#b00020;stroke-width:2}.crash{stroke-dasharray:4 3}
.instant{fill:#37474f;opacity:.75}
.mk-lost{fill:#b00020}.mk-show{fill:#6a1b9a}.mk-connect{fill:#1565c0}
.act{fill:#000}
pre{background:#f4f4f4;padding:8px;overflow:auto;max-height:300px}
.legend span{display:inline-block;margin-right:14px}
</style></head><body><h1>sessionkit simulation</h1>
<table><tr><th>scenario</th><th>seed</th><th>policy</th><th>clients</th><th>simulated</th><th>wall</th><th>events</th><th>sessions</th><th>verdict</th></tr>
`)
	for _, r := range reports {
		verdict, class := "ok", "ok"
		if !r.OK() {
			verdict, class = "FAIL", "fail"
		} else if r.ExpectedFailure {
			verdict = "ok (expected failure)"
		}
		fmt.Fprintf(&b, "<tr><td><a href=\"#%s-%d\">%s</a></td><td>%d</td><td>%s</td><td>%d</td><td>%s</td><td>%s</td><td>%d</td><td>%d</td><td class=%q>%s</td></tr>\n",
			esc(r.Scenario), r.Seed, esc(r.Scenario), r.Seed, esc(r.Policy), r.Clients, formatDuration(r.Simulated),
			r.Wall.Round(time.Millisecond), r.Stats.Events, r.Stats.Sessions, class, verdict)
	}
	b.WriteString("</table>\n")
	b.WriteString(`<p class="legend"><span>█ <b style="color:#4c9a2a">live session</b></span><span><b style="color:#9aa5b1">█ ended</b></span>
<span>| keepalive</span><span style="color:#e53935">█ partition/flap</span><span style="color:#fb8c00">█ loss/delay</span>
<span style="color:#5c6bc0">█ hidden</span><span style="color:#00838f">█ frozen</span><span style="color:#b00020">┃ restart (dashed: crash)</span>
<span style="color:#1565c0">● connect</span><span style="color:#b00020">▲ lost</span><span style="color:#6a1b9a">◆ shown to user</span>
<span style="color:#37474f">⚑ user action (close, open, login, logout, save…)</span>. Hover anything for details.</p>`)
	for _, r := range reports {
		writeReport(&b, r)
	}
	b.WriteString("</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func esc(s string) string { return html.EscapeString(s) }

func writeReport(b *strings.Builder, r *Report) {
	fmt.Fprintf(b, "<h2 id=\"%s-%d\">%s (seed %d)</h2>\n<p>%s</p>\n", esc(r.Scenario), r.Seed, esc(r.Scenario), r.Seed, esc(r.Summary()))
	for _, f := range r.Failures {
		fmt.Fprintf(b, "<p class=fail>%s</p><pre>%s</pre>\n", esc(f.String()), esc(strings.Join(f.Trace, "\n")))
	}
	for _, e := range r.Expectations {
		class := "ok"
		if !e.OK {
			class = "fail"
		}
		fmt.Fprintf(b, "<div class=%s>%s — %s</div>\n", class, esc(e.Source), esc(e.Detail))
	}
	t := r.timeline
	if t == nil || t.until <= 0 {
		return
	}
	const (
		left  = 110
		width = 1100
		laneH = 16
		top   = 24
	)
	h := top + laneH*len(t.lanes) + 10
	x := func(d time.Duration) float64 { return left + float64(width)*float64(d)/float64(t.until) }
	fmt.Fprintf(b, "<svg width=\"%d\" height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\">\n", left+width+160, h)
	// Time axis.
	step := axisStep(t.until)
	for d := time.Duration(0); d <= t.until; d += step {
		fmt.Fprintf(b, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e0e0e0\"/><text x=\"%.1f\" y=\"14\" font-size=\"10\">%s</text>\n",
			x(d), top-4, x(d), h, x(d)+2, formatDuration(d))
	}
	rows := map[int32][]int{}
	for i, l := range t.lanes {
		rows[l.client] = append(rows[l.client], i)
	}
	for _, f := range t.faults {
		var lanes []int
		if f.client < 0 {
			for i := range t.lanes {
				lanes = append(lanes, i)
			}
		} else {
			lanes = rows[f.client]
		}
		for _, i := range lanes {
			l := &t.lanes[i]
			if f.to < l.start || l.ended && f.from > l.end || f.client < 0 && f.from == f.to {
				continue // not while this session lived
			}
			if f.from == f.to {
				// A user action: a small flag on the lane.
				fmt.Fprintf(b, "<path class=\"instant\" d=\"M%.1f %d v10 l5 -3z\"><title>%s</title></path>\n",
					x(f.from), top+laneH*i+2, esc(f.text))
				continue
			}
			fmt.Fprintf(b, "<rect class=\"f-%s\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\"><title>%s</title></rect>\n",
				esc(f.kind), x(f.from), top+laneH*i, max(x(f.to)-x(f.from), 1), laneH, esc(f.text))
		}
	}
	for i, l := range t.lanes {
		y := top + laneH*i
		end := t.until
		class := "lane"
		if l.ended {
			end, class = l.end, "ended"
		}
		fmt.Fprintf(b, "<text x=\"2\" y=\"%d\" font-size=\"11\">%s</text>\n", y+12, esc(l.label))
		fmt.Fprintf(b, "<rect class=\"%s\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"6\"><title>%s %s – %s %s</title></rect>\n",
			class, x(l.start), y+5, max(x(end)-x(l.start), 1), esc(l.label), stamp(l.start), stamp(end), esc(l.reason))
		for _, k := range l.ticks {
			fmt.Fprintf(b, "<line class=\"tick\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>", x(k), y+2, x(k), y+13)
		}
		if l.ended {
			fmt.Fprintf(b, "\n<text x=\"%.1f\" y=\"%d\" font-size=\"10\" fill=\"#b00020\">✕ %s</text>\n", x(l.end)+2, y+12, esc(l.reason))
		}
	}
	for _, m := range t.marks {
		lanes := rows[m.client]
		if len(lanes) == 0 {
			continue
		}
		// The mark goes on the client's latest lane started by then.
		li := lanes[0]
		for _, i := range lanes {
			if t.lanes[i].start <= m.at {
				li = i
			}
		}
		y := top + laneH*li + 8
		shape := fmt.Sprintf("<circle class=\"mk-connect\" cx=\"%.1f\" cy=\"%d\" r=\"2.5\">", x(m.at), y)
		switch m.kind {
		case "lost":
			shape = fmt.Sprintf("<path class=\"mk-lost\" d=\"M%.1f %d l4 7 h-8z\">", x(m.at), y-4)
		case "show":
			shape = fmt.Sprintf("<path class=\"mk-show\" d=\"M%.1f %d l4 4 l-4 4 l-4 -4z\">", x(m.at), y-4)
		}
		fmt.Fprintf(b, "%s<title>%s %s %s</title></%s>\n", shape, stamp(m.at), m.kind, esc(m.what), strings.Fields(shape[1:])[0])
	}
	for _, rs := range t.restarts {
		class := "restart"
		if rs.crash {
			class += " crash"
		}
		fmt.Fprintf(b, "<line class=\"%s\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"><title>service restart at %s</title></line>\n",
			class, x(rs.at), top-6, x(rs.at), h, stamp(rs.at))
	}
	b.WriteString("</svg>\n")
	if len(t.lanes) >= maxLanes {
		fmt.Fprintf(b, "<p>Only the first %d sessions are drawn.</p>\n", maxLanes)
	}
}

// axisStep picks a round tick spacing for about ten ticks.
func axisStep(end time.Duration) time.Duration {
	for _, s := range []time.Duration{time.Second, 10 * time.Second, time.Minute, 5 * time.Minute, 10 * time.Minute,
		30 * time.Minute, time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, day, 7 * day} {
		if end/s <= 12 {
			return s
		}
	}
	return 30 * day
}
