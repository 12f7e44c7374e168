package httpapi

import (
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/obank/obank/api/obie"
)

// specIndex lists the embedded OpenAPI files, read-only, as JSON.
func (s *Server) specIndex(w http.ResponseWriter, r *http.Request) error {
	entries, err := fs.ReadDir(obie.Files(), ".")
	if err != nil {
		return err
	}
	type item struct {
		Name string `json:"name"`
		URL  string `json:"url"`
	}
	var items []item
	base := s.linkBase(r) + "/open-banking/specs/"
	for _, e := range entries {
		if name := e.Name(); path.Ext(name) == ".yaml" {
			items = append(items, item{Name: name, URL: base + name})
		}
	}
	slices.SortFunc(items, func(a, b item) int { return strings.Compare(a.Name, b.Name) })
	return writeJSON(w, http.StatusOK, map[string]any{"specs": items})
}

// specFile serves one embedded OpenAPI file as application/yaml; unknown
// names are 404 without a body.
func (s *Server) specFile(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("file")
	if path.Ext(name) != ".yaml" || strings.ContainsAny(name, "/\\") {
		w.WriteHeader(http.StatusNotFound)
		return nil
	}
	data, err := obie.Read(name)
	if err != nil {
		w.WriteHeader(http.StatusNotFound)
		return nil
	}
	h := w.Header()
	h.Set("Content-Type", "application/yaml")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("Cache-Control", "public, max-age=3600")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
	return nil
}
