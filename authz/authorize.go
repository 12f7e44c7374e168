package authz

import (
	"errors"
	"net/http"

	"github.com/obank/obank/oauth"
)

// (Stub: replaced by authorize.go.)
func (s *Server) authorizeRoutes(mux *http.ServeMux) {}

// Finish implements Finisher. (Stub.)
func (s *Server) Finish(w http.ResponseWriter, r *http.Request, sessionID string, o oauth.Outcome) error {
	return errors.New("todo")
}
