package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io/fs"
	"net/http"
	"path"
	"sync"
	"time"
)

//go:embed static
var staticFiles embed.FS

// FS returns the embedded static files: sessionkit.js and the demo pages,
// at the root of the returned file system.
func FS() fs.FS {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // the directory is embedded: it is there
	}
	return sub
}

// contentTypes names the type of every kind of file embedded, rather than
// asking package mime, which reads the system's tables: some map .js to
// text/plain or application/x-javascript, and browsers refuse to run a
// module served as text/plain.
var contentTypes = map[string]string{
	".js":   "text/javascript; charset=utf-8",
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".json": "application/json",
}

// staticFile is one embedded file, ready to serve.
type staticFile struct {
	data  []byte
	ctype string
	etag  string
}

// files indexes the embedded files by URL path once.
var files = sync.OnceValue(func() map[string]*staticFile {
	m := make(map[string]*staticFile)
	root := FS()
	err := fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		ctype, ok := contentTypes[path.Ext(p)]
		if !ok {
			ctype = "application/octet-stream"
		}
		sum := sha256.Sum256(data)
		m["/"+p] = &staticFile{data: data, ctype: ctype,
			etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil {
		panic(err) // embedded files are readable
	}
	return m
})

// Handler serves the embedded files: / is index.html, and every other path
// names a file. Answers carry an explicit Content-Type (text/javascript for
// the module), an ETag of the content and Cache-Control: no-cache, so a
// browser revalidates on every load and never runs a stale client against a
// newer service. Only GET and HEAD are allowed.
func Handler() http.Handler {
	idx := files()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		p := path.Clean("/" + r.URL.Path)
		if p == "/" {
			p = "/index.html"
		}
		f := idx[p]
		if f == nil {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.ctype)
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", f.etag)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		http.ServeContent(w, r, p, time.Time{}, bytes.NewReader(f.data))
	})
}
