package authz

import "net/http"

// (Stub: replaced by par.go.)
func (s *Server) parRoutes(mux *http.ServeMux) {}
