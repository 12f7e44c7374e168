package authz

import (
	"errors"
	"net/http"
)

// (Stub: replaced by discovery.go.)
func (s *Server) discovery(w http.ResponseWriter, r *http.Request) error { return errors.New("todo") }
func (s *Server) jwks(w http.ResponseWriter, r *http.Request) error      { return errors.New("todo") }
