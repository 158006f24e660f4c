package sim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

const day = 24 * time.Hour

// parseDuration reads a Go duration that may also count days ("7d",
// "1d12h"), as scenario files do.
func parseDuration(s string) (time.Duration, error) {
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		days, s = time.Duration(n)*day, s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("bad duration %q", s)
	}
	return days + d, nil
}

// formatDuration writes d so that parseDuration reads it back, with days
// for long spans.
func formatDuration(d time.Duration) string {
	if d >= day {
		days, rest := d/day, d%day
		if rest == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd%s", days, shortDuration(rest))
	}
	return shortDuration(d)
}

// shortDuration trims time.Duration's trailing zero units: "1h0m0s" reads
// better as "1h".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// stamp formats a virtual instant for logs: "02:03:04.567", with a day
// prefix once the run is a day old ("1d 02:03:04.567").
func stamp(t time.Duration) string {
	var b [32]byte
	return string(appendStamp(b[:0], t))
}

func appendStamp(b []byte, t time.Duration) []byte {
	if t < 0 {
		b = append(b, '-')
		t = -t
	}
	if t >= day {
		b = strconv.AppendInt(b, int64(t/day), 10)
		b = append(b, "d "...)
		t %= day
	}
	ms := int64(t / time.Millisecond)
	h, m, s, f := ms/3600000, ms/60000%60, ms/1000%60, ms%1000
	b = append2(b, h)
	b = append(b, ':')
	b = append2(b, m)
	b = append(b, ':')
	b = append2(b, s)
	b = append(b, '.')
	b = append(b, byte('0'+f/100), byte('0'+f/10%10), byte('0'+f%10))
	return b
}

func append2(b []byte, n int64) []byte {
	if n < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, n, 10)
}
