package storetest

import (
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core"
)

// The clause "The store never reads the clock and never expires anything by
// itself": deadlines long past are only index values.
var clockTests = []test{
	{"NeverExpires", func(t *testing.T, s core.Store) {
		old := rec("s/old", "kept", core.IndexDue, timeValue(time.Unix(0, 0)))
		old.Version = put(t, s, old)
		ancient := rec("s/ancient", "kept", core.IndexDue, timeValue(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)))
		ancient.Version = put(t, s, ancient)
		wantRecord(t, s, old)
		wantRecord(t, s, ancient)
		wantScan(t, s, core.Range{Index: core.IndexDue, To: timeValue(base)}, "s/ancient", "s/old")
	}},
}
