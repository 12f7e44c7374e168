package sqlstore

import (
	"github.com/obank/obank/oauth"
)

// authRequestJSON is the stored shape of an oauth.AuthRequest, the request
// column of oauth_auth_sessions, oauth_codes and oauth_pushed_requests. Like
// the row types in json.go it is separate from the domain type so that
// renaming a Go field does not change what is already stored. Slices have no
// omitempty so that nil and empty round-trip as written.
type authRequestJSON struct {
	ClientID            string   `json:"clientId,omitempty"`
	RedirectURI         string   `json:"redirectUri,omitempty"`
	ResponseType        string   `json:"responseType,omitempty"`
	ResponseMode        string   `json:"responseMode,omitempty"`
	Scopes              []string `json:"scopes"`
	State               string   `json:"state,omitempty"`
	Nonce               string   `json:"nonce,omitempty"`
	IntentID            string   `json:"intentId,omitempty"`
	ACRValues           []string `json:"acrValues"`
	CodeChallenge       string   `json:"codeChallenge,omitempty"`
	CodeChallengeMethod string   `json:"codeChallengeMethod,omitempty"`
	MaxAge              *int     `json:"maxAge,omitempty"`
}

func toAuthRequestJSON(a oauth.AuthRequest) authRequestJSON {
	return authRequestJSON{
		ClientID: a.ClientID, RedirectURI: a.RedirectURI, ResponseType: a.ResponseType,
		ResponseMode: a.ResponseMode, Scopes: a.Scopes, State: a.State, Nonce: a.Nonce,
		IntentID: a.IntentID, ACRValues: a.ACRValues, CodeChallenge: a.CodeChallenge,
		CodeChallengeMethod: a.CodeChallengeMethod, MaxAge: a.MaxAge,
	}
}

func (a *authRequestJSON) domain() oauth.AuthRequest {
	return oauth.AuthRequest{
		ClientID: a.ClientID, RedirectURI: a.RedirectURI, ResponseType: a.ResponseType,
		ResponseMode: a.ResponseMode, Scopes: a.Scopes, State: a.State, Nonce: a.Nonce,
		IntentID: a.IntentID, ACRValues: a.ACRValues, CodeChallenge: a.CodeChallenge,
		CodeChallengeMethod: a.CodeChallengeMethod, MaxAge: a.MaxAge,
	}
}
