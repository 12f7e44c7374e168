package authz

import "net/http"

// (Stub: replaced by register.go.)
func (s *Server) registerRoutes(mux *http.ServeMux) {}
