package httptransport

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzDecodeRequest feeds arbitrary bodies to the request decoding of every
// body the API takes. Run it with
//
//	go test -fuzz FuzzDecodeRequest ./transports/httptransport/
//
// It checks that decoding never panics, that every refusal is a 400
// malformed_json (or a 413 past the limit), and that whatever is accepted is
// valid JSON that decodes to the same value again after encoding.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{
		`{}`, ` {"channel":"frame"} `,
		`{"reference_id":"r","channel":"c","metadata":{"a":"b"}}`,
		`{"version":3,"name":"n","mode":"auto","data":{"x":[1,2.5e3,{"y":null}],"s":"\u00e9"}}`,
		`{"mode":"manual","data_base64":"AAE="}`, `{"data":null}`, `{"version":1}`, `{"subject":"ann"}`,
		`[]`, `null`, `"x"`, `{"a":`, `{} {}`, `{}x`, `{"channel":5}`, `{"version":-1}`,
		"\xff", `{"channel":"\ud800"}`, `{"metadata":{"k":"v","k":"w"}}`, `{"data":{]}`, `{"data":1,"data_base64":"AA=="}`,
		`{"metadata":{"` + "\xff" + `":"v"}}`, `{"version":18446744073709551616}`, "",
	} {
		f.Add([]byte(s), false)
	}
	f.Add([]byte(`{"channel":"frame"}`), true)
	targets := []func() any{
		func() any { return new(CreateRequest) },
		func() any { return new(DraftSaveRequest) },
		func() any { return new(DraftCloseRequest) },
		func() any { return new(RevokeRequest) },
		func() any { return new(json.RawMessage) }, // login credentials
	}
	// cut sets the body limit just under the body's size, so that the
	// 413 path is reached by inputs small enough to minimize quickly.
	f.Fuzz(func(t *testing.T, body []byte, cut bool) {
		limit := int64(64 << 10)
		if cut && len(body) > 0 {
			limit = int64(len(body) - 1)
		}
		for _, target := range targets {
			v := target()
			r := &http.Request{
				Method: "POST", Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)),
			}
			e := decodeBody(httptest.NewRecorder(), r, limit, v)
			switch {
			case int64(len(body)) > limit:
				if e == nil || e.Status != http.StatusRequestEntityTooLarge || e.Code != CodeBodyTooLarge {
					t.Fatalf("%T: %d bytes over the limit: %v", v, len(body), e)
				}
				continue
			case e != nil:
				if e.Status != http.StatusBadRequest || e.Code != CodeMalformedJSON || e.Message == "" || len(body) == 0 {
					t.Fatalf("%T: refused with %+v", v, e)
				}
				continue
			case len(body) == 0:
				continue
			}
			if !json.Valid(body) {
				t.Fatalf("%T: accepted invalid JSON %q", v, body)
			}
			once, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("%T: re-encoding %+v: %v", v, v, err)
			}
			w := target()
			if e := decodeJSON(once, w); e != nil {
				t.Fatalf("%T: re-decoding %s: %v", v, once, e)
			}
			twice, _ := json.Marshal(w)
			if !bytes.Equal(once, twice) {
				t.Fatalf("%T: %s then %s", v, once, twice)
			}
			if d, ok := v.(*DraftSaveRequest); ok {
				data, e := d.draftData()
				if e == nil && len(d.DataBase64) == 0 && len(data) > 0 && !json.Valid(data) {
					t.Fatalf("draft data %q stored from %q is not JSON", data, d.Data)
				}
			}
		}
	})
}
