package sim

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/sessionkit/sessionkit/core"
)

// mdraft is the model's view of one draft: the content of its last
// acknowledged save.
type mdraft struct {
	id      string
	client  int32
	acked   []byte
	session int32 // model session it is open in, or -1
	open    bool
	expires time.Duration
	purged  bool
}

func (m *model) draftSaved(idx int32, d *core.Draft, client int32) {
	md := m.drafts[d.ID]
	if md == nil {
		md = &mdraft{id: d.ID, client: client, session: -1, open: true}
		m.drafts[d.ID] = md
		m.dorder = append(m.dorder, d.ID)
	}
	m.moveDraft(md, idx)
	md.acked = d.Data
	md.expires = d.UpdatedAt.Sub(Epoch) + m.p.DraftRetention
}

// moveDraft records that md is now open in session idx.
func (m *model) moveDraft(md *mdraft, idx int32) {
	if md.session == idx {
		return
	}
	if md.session >= 0 && md.open {
		m.sess[md.session].openDrafts--
	}
	md.session = idx
	if md.open {
		m.sess[idx].openDrafts++
	}
}

func (m *model) draftClosed(id string) {
	md := m.drafts[id]
	if md == nil || !md.open {
		return
	}
	md.open = false
	if md.session >= 0 {
		m.sess[md.session].openDrafts--
	}
}

// checkContent compares draft content handed back by the service with the
// last acknowledged save.
func (m *model) checkContent(id string, data []byte, what string) {
	md := m.drafts[id]
	if md == nil {
		m.s.fail("draft.lost", nil, -1, "%s returned draft %s, which was never acknowledged", what, id)
		return
	}
	if string(md.acked) != string(data) {
		m.s.fail("draft.lost", m.s.clients[md.client], md.session, "%s returned %q; the last acknowledged save was %q", what, data, md.acked)
	}
}

// checkDrafts reads every acknowledged draft from the store: each must
// hold its last acknowledged content until its retention ends.
func (m *model) checkDrafts(when string) {
	for _, id := range m.dorder {
		md := m.drafts[id]
		if md.purged {
			continue
		}
		rec, err := m.s.store.Get(m.s.ctx, core.DraftKey(id))
		if errors.Is(err, core.ErrNotFound) {
			if m.s.now < md.expires {
				m.s.fail("draft.lost", m.s.clients[md.client], md.session, "%s: acknowledged draft %s (%q) is gone from the store", when, id, md.acked)
				return
			}
			continue
		}
		if err != nil {
			m.s.fail("engine.error", nil, -1, "%s: reading draft %s: %v", when, id, err)
			return
		}
		// The stored draft's data, read as core writes it.
		var stored struct {
			Data []byte `json:"data"`
		}
		if err := json.Unmarshal(rec.Value, &stored); err != nil {
			m.s.fail("engine.error", nil, -1, "%s: draft %s does not decode: %v", when, id, err)
			return
		}
		if string(stored.Data) != string(md.acked) {
			m.s.fail("draft.lost", m.s.clients[md.client], md.session, "%s: draft %s holds %q; the last acknowledged save was %q", when, id, stored.Data, md.acked)
			return
		}
	}
}
