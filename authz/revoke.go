package authz

import (
	"errors"
	"net/http"
)

// (Stub: replaced by revoke.go.)
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) error     { return errors.New("todo") }
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) error { return errors.New("todo") }
