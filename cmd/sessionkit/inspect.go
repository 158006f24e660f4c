package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/sessionkit/sessionkit/adapters/badgerstore"
	"github.com/sessionkit/sessionkit/core"
)

// inspect prints the sessions of a subject or a reference, and drafts, from
// a store directory. It opens the store itself, so the service must not be
// running on the same directory (badger allows one process at a time).
func inspect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./sessionkit-data", "store directory")
	subject := fs.String("subject", "", "list the sessions and drafts of this subject")
	reference := fs.String("reference", "", "list the sessions and drafts of this client reference")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	pf := addPolicyFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: sessionkit inspect -data DIR (-subject NAME | -reference REF) [flags]")
		fs.PrintDefaults()
	}
	if err := parse(fs, pf, args); err != nil {
		return err
	}
	if (*subject == "") == (*reference == "") {
		fs.Usage()
		return errUsage
	}
	p, err := pf.policy()
	if err != nil {
		return err
	}
	st, err := badgerstore.Open(*data, nil)
	if errors.Is(err, badgerstore.ErrLocked) {
		return fmt.Errorf("%w (is sessionkit serve running on it? stop it first)", err)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	m, err := core.New(core.Config{Store: st, Policy: p})
	if err != nil {
		return err
	}

	var sessions []core.Session
	var owner string
	if *subject != "" {
		sessions, err = m.ListBySubject(ctx, *subject)
		owner = "subject:" + *subject
	} else {
		sessions, err = m.ListByReference(ctx, *reference)
		owner = "ref:" + *reference
	}
	if err != nil {
		return err
	}
	drafts, err := m.ListDraftsByOwner(ctx, owner)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Sessions []core.Session `json:"sessions"`
			Drafts   []core.Draft   `json:"drafts"`
		}{sessions, drafts})
	}
	return printTables(stdout, m, sessions, drafts)
}

func printTables(w io.Writer, m *core.Manager, sessions []core.Session, drafts []core.Draft) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "SESSION\tSTATE\tREASON\tSUBJECT\tREFERENCE\tCHANNEL\tCREATED\tLAST SEEN\tNEXT DEADLINE\n")
	for _, s := range sessions {
		d, why := m.Deadline(&s)
		next := stamp(d) + " " + string(why)
		if s.State == core.StateEnded {
			next = "purge " + stamp(d)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.State, dash(string(s.EndReason)),
			dash(s.Subject), dash(s.ReferenceID), dash(s.Channel), stamp(s.CreatedAt), stamp(s.LastSeen), next)
	}
	fmt.Fprintf(tw, "\nDRAFT\tNAME\tSTATE\tMODE\tVERSION\tBYTES\tSESSION\tUPDATED\tEXPIRES\n")
	for _, d := range drafts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", d.ID, dash(d.Name), d.State, d.Mode, d.Version,
			len(d.Data), d.Session, stamp(d.UpdatedAt), stamp(d.ExpiresAt))
	}
	return tw.Flush()
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
