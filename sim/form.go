package sim

import (
	"bytes"
	"strconv"

	"github.com/sessionkit/sessionkit/core"
)

// form is the client's in-progress form and what it knows of its draft.
type form struct {
	id        string
	version   uint64
	rev       int // the content in the page
	savedRev  int // the content the service last acknowledged to us
	sentRev   int // the content of the save in flight
	closed    bool
	inSession bool // the draft is open in the current session
	restored  int  // times a new session took the draft up with its saved content
}

func (c *client) canSave() bool {
	return c.state == cOnline && c.spec.Form != "" && !c.form.closed && c.dreq.n == 0 &&
		(c.form.inSession || c.form.id == "")
}

// content is the form's data at rev: it names its author and revision, so
// the oracle can tell exactly which save came back.
func (c *client) content(rev int) []byte {
	return []byte(c.name + "/" + c.spec.Form + "/" + strconv.Itoa(rev))
}

// revOf reads the revision back from form content, or -1.
func revOf(data []byte) int {
	i := bytes.LastIndexByte(data, '/')
	if i < 0 {
		return -1
	}
	n, err := strconv.Atoi(string(data[i+1:]))
	if err != nil {
		return -1
	}
	return n
}

func (c *client) save(mode core.SaveMode) {
	c.form.sentRev = c.form.rev
	c.s.stats.DraftSaves++
	c.draftRequest(opSave, &payload{draftID: c.form.id, version: c.form.version,
		data: c.content(c.form.rev), mode: mode})
}

func (c *client) onDraft(p *payload) {
	f := &c.form
	if p.err != "" {
		c.log("<- %s failed: %s", p.replyTo, p.err)
	}
	switch p.replyTo {
	case opSave:
		switch p.err {
		case "":
			f.id, f.version, f.savedRev, f.inSession = p.draftID, p.version, f.sentRev, true
			c.log("<- draft saved: rev %d, version %d", f.savedRev, f.version)
		case errConflict:
			c.draftRequest(opLoadDraft, &payload{draftID: f.id})
		case errNotFound:
			f.id, f.version, f.inSession = "", 0, false
		case errState:
			f.closed = true
		}
	case opResumeDraft, opLoadDraft:
		switch p.err {
		case "":
			rev := revOf(p.data)
			if p.replyTo == opResumeDraft && rev >= f.savedRev {
				f.restored++
			}
			f.version, f.rev, f.savedRev, f.inSession = p.version, rev, rev, true
			c.log("<- draft back: rev %d, version %d", rev, f.version)
		case errNotFound:
			// A guest's draft belongs to the guest session: a new session
			// starts a new draft.
			f.id, f.version, f.inSession = "", 0, false
			if c.canSave() {
				f.rev++
				c.save(core.SaveAuto)
			}
		case errState:
			f.closed = true
		}
	case opSubmit:
		if p.err == "" {
			f.closed, f.version = true, p.version
			c.log("<- form submitted")
		}
	}
}
